//! `/nodes`: the cluster's members, their health, and adding or removing one.

use super::*;

pub(super) fn node_info(node: &Node, m: &crate::identity::Card) -> NodeInfo {
    let c = &node.cluster;
    let p = c.presence(m);
    NodeInfo {
        name: m.name.clone(),
        key: m.ed25519.clone(),
        this_node: c.is_me(m),
        up: c.is_up(m),
        last_seen_secs: p.as_ref().map(|p| p.seen.elapsed().as_secs()),
        version: p.as_ref().map(|p| p.version.clone()),
        keys: if c.is_me(m) {
            node.db().keys().ok().map(|k| k.len())
        } else {
            p.map(|p| p.keys)
        },
    }
}

#[utoipa::path(get, path = "/nodes", tag = "nodes", responses((status = 200, description = "the cluster's members", body = Envelope<NodeList>)))]
pub(super) async fn list_nodes(
    State(node): State<Shared>,
    _: Authorized<Reads>,
) -> Answer<NodeList> {
    // `node_info` reads this node's keys from SQLite: not on an async worker.
    let nodes = blocking(move || {
        Ok(node
            .cluster
            .members()
            .iter()
            .map(|m| node_info(&node, m))
            .collect())
    })
    .await?;
    Ok(Data::ok(NodeList { nodes }))
}

/// `POST /nodes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The member's card, as `mpc id --out` writes it.
    #[schema(value_type = CardShape)]
    pub card: serde_json::Value,
    /// Its fingerprint as its owner reads it out (`mpc id`: four words and eight hex
    /// digits), or the whole fingerprint in hex.
    #[schema(pattern = "^([a-z]+-[a-z]+-[a-z]+-[a-z]+ [0-9a-f]{8}|[0-9a-fA-F]{64})$")]
    pub fingerprint: String,
}

/// A party's card as the document describes it (the node reads it as
/// [`crate::identity::Card`] and checks its keys, which a pattern cannot).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct CardShape {
    /// Always 1.
    #[schema(minimum = 1, maximum = 1)]
    version: u8,
    /// 1-32 letters, digits, '-', '_' or '.'.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,32}$")]
    name: String,
    /// The Ed25519 identity key, 64 hex digits.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    ed25519: String,
    /// The age X25519 recipient.
    #[schema(pattern = "^age1[02-9ac-hj-np-z]{58}$")]
    x25519: String,
}

/// Adds a member (admin) on this node; the other nodes' operators add it on theirs.
#[utoipa::path(post, path = "/nodes", tag = "nodes", request_body = NewMember, responses((status = 201, description = "a member now", body = Envelope<NodeInfo>)))]
pub(super) async fn add_node(
    State(node): State<Shared>,
    _: Authorized<AdministersAll>,
    ApiJson(req): ApiJson<NewMember>,
) -> Answer<NodeInfo> {
    let info = blocking(move || {
        let card = req.card.to_string();
        let card = crate::serve::members::add(
            node.db(),
            &node.cluster,
            card.as_bytes(),
            &req.fingerprint,
        )?;
        Ok(node_info(&node, &card))
    })
    .await?;
    Ok(Data::created(info))
}

/// Removes a member (admin) on this node: its messages are dropped from now on.
#[utoipa::path(delete, path = "/nodes/{id}", tag = "nodes", params(("id" = String, Path, description = "the member's name")), responses((status = 200, description = "no longer a member", body = Envelope<NodeInfo>)))]
pub(super) async fn remove_node(
    State(node): State<Shared>,
    _: Authorized<AdministersAll>,
    Path(name): Path<String>,
) -> Answer<NodeInfo> {
    blocking(move || {
        let card = crate::serve::members::remove(node.db(), &node.cluster, &name)?;
        Ok(node_info(&node, &card))
    })
    .await
    .map(Data::ok)
}

pub(super) fn member(node: &Node, name: &str) -> Result<crate::identity::Card, ApiError> {
    node.cluster.member_named(name).ok_or_else(|| {
        ApiError::new(
            404,
            "node_not_found",
            format!("no member {name} in this cluster"),
        )
    })
}

#[utoipa::path(get, path = "/nodes/{id}", tag = "nodes", params(("id" = String, Path, description = "the member's name")), responses((status = 200, description = "the member", body = Envelope<NodeInfo>)))]
pub(super) async fn show_node(
    State(node): State<Shared>,
    _: Authorized<Reads>,
    Path(name): Path<String>,
) -> Answer<NodeInfo> {
    blocking(move || Ok(node_info(&node, &member(&node, &name)?)))
        .await
        .map(Data::ok)
}

/// A member's health as this node sees it; for this node itself, also its own levels.
#[utoipa::path(get, path = "/nodes/{id}/health", tag = "nodes", params(("id" = String, Path, description = "the member's name")), responses((status = 200, description = "the member's health", body = Envelope<NodeHealth>)))]
pub(super) async fn node_health(
    State(node): State<Shared>,
    _: Authorized<Reads>,
    Path(name): Path<String>,
) -> Answer<NodeHealth> {
    blocking(move || {
        let m = member(&node, &name)?;
        let mut info = node_info(&node, &m);
        let own = info.this_node.then(|| {
            let levels = node.levels();
            info.version = Some(env!("CARGO_PKG_VERSION").into());
            OwnHealth {
                sessions_running: levels.sessions_running,
                bus: levels.bus_connected,
                nonce_pool_own: levels.nonce_pool_own,
                nonce_pool_held: levels.nonce_pool_held,
                presignature_pool: levels.presignature_pool,
                uptime_secs: node.started.elapsed().as_secs(),
            }
        });
        Ok(NodeHealth { node: info, own })
    })
    .await
    .map(Data::ok)
}
