//! Checks a JSON answer against the OpenAPI document `mpc serve` publishes: the schema
//! of its route, method and status. Enough of JSON Schema for what utoipa writes:
//! `$ref`, `type` (one or a list, `null` among them), `properties` and `required`,
//! `items`, `additionalProperties`, `enum`, `oneOf`/`anyOf`/`allOf`. An object may not
//! carry a property its schema does not name (unless it allows additional ones), so an
//! answer with an undocumented field fails as surely as one missing a documented field.

use serde_json::Value;

/// The document and what it says of answers.
pub struct Document(pub Value);

impl Document {
    /// The template in the document that `path` (a concrete URI path) matches.
    pub fn route(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let paths = self.0["paths"].as_object()?;
        // A literal segment beats a parameter (`/sign/batch` over `/sign/{x}`).
        let mut best: Option<(usize, &String)> = None;
        for template in paths.keys() {
            let t: Vec<&str> = template.split('/').collect();
            if t.len() != parts.len() {
                continue;
            }
            let mut literal = 0;
            let fits = t.iter().zip(&parts).all(|(a, b)| {
                if a.starts_with('{') {
                    true
                } else {
                    literal += 1;
                    a == b
                }
            });
            if fits && best.is_none_or(|(l, _)| literal > l) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    /// Checks `body`, answered with `status` to `method path`: `Err` says where it
    /// departs from the document. A route the document does not name is an error.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let route = self
            .route(path)
            .ok_or_else(|| format!("{path} is not in the document"))?;
        let op = &self.0["paths"][&route][method.to_ascii_lowercase()];
        if op.is_null() {
            return Err(format!("{method} {route} is not in the document"));
        }
        let responses = &op["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let response = [code.as_str(), range.as_str(), "default"]
            .iter()
            .map(|k| &responses[*k])
            .find(|r| !r.is_null())
            .ok_or_else(|| format!("{method} {route} documents no {status} answer"))?;
        let schema = &response["content"]["application/json"]["schema"];
        if schema.is_null() {
            return Err(format!("{method} {route} {status}: no JSON schema"));
        }
        self.value(schema, body, "$")
            .map_err(|e| format!("{method} {route} {status}: {e}"))
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                self.resolve(&self.0["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    /// The property names `schema` allows (through `allOf` and references), or `None`
    /// when it allows any.
    fn known(&self, schema: &Value, out: &mut Vec<String>) -> bool {
        let s = self.resolve(schema);
        if s.get("additionalProperties").is_some_and(|a| a != false) {
            return false;
        }
        if let Some(p) = s["properties"].as_object() {
            out.extend(p.keys().cloned());
        }
        let mut bounded = s["properties"].is_object();
        if let Some(all) = s["allOf"].as_array() {
            for a in all {
                if !self.known(a, out) {
                    return false;
                }
                bounded = true;
            }
        }
        bounded
    }

    fn value(&self, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
        let s = self.resolve(schema);
        if let Some(all) = s["allOf"].as_array() {
            for a in all {
                self.value_loose(a, v, at)?;
            }
            return self.no_strangers(s, v, at);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(any) = s[key].as_array() {
                let errors: Vec<String> = any
                    .iter()
                    .filter_map(|a| self.value(a, v, at).err())
                    .collect();
                if errors.len() == any.len() {
                    return Err(format!("{at}: none of {key} fits ({})", errors.join("; ")));
                }
                return Ok(());
            }
        }
        self.value_loose(s, v, at)?;
        self.no_strangers(s, v, at)
    }

    /// `v` against `schema`, without the check for undocumented properties (an `allOf`
    /// member sees only its own part of the object).
    fn value_loose(&self, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
        let s = self.resolve(schema);
        if s.get("allOf").is_some() || s.get("oneOf").is_some() || s.get("anyOf").is_some() {
            return self.value(s, v, at);
        }
        if let Some(e) = s["enum"].as_array()
            && !e.contains(v)
        {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
        let types: Vec<&str> = match &s["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| is_type(t, v)) {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
        if let (Some(props), Some(obj)) = (s["properties"].as_object(), v.as_object()) {
            for r in s["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap_or_default();
                if !obj.contains_key(r) {
                    return Err(format!("{at}: the required `{r}` is missing"));
                }
            }
            for (k, pv) in obj {
                if let Some(ps) = props.get(k) {
                    self.value(ps, pv, &format!("{at}.{k}"))?;
                }
            }
        }
        if let (Some(extra), Some(obj)) = (s.get("additionalProperties"), v.as_object())
            && extra.is_object()
        {
            let named = s["properties"].as_object();
            for (k, pv) in obj {
                if named.is_none_or(|n| !n.contains_key(k)) {
                    self.value(extra, pv, &format!("{at}.{k}"))?;
                }
            }
        }
        if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate() {
                self.value(items, x, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }

    fn no_strangers(&self, s: &Value, v: &Value, at: &str) -> Result<(), String> {
        let Some(obj) = v.as_object() else {
            return Ok(());
        };
        let mut known = Vec::new();
        if !self.known(s, &mut known) {
            return Ok(());
        }
        match obj.keys().find(|k| !known.contains(k)) {
            Some(k) => Err(format!("{at}: `{k}` is not in the document")),
            None => Ok(()),
        }
    }
}

fn is_type(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}
