//! Key sessions a node coordinates: a key generation among members, and a rotation
//! (refresh) among a key's nodes.

use super::*;

impl Node {
    /// Coordinates a key generation among cluster members (`POST /keys`).
    pub async fn keygen(&self, req: &KeygenRequest) -> Result<Outcome> {
        let _slot = self.sessions.slot()?;
        let members = self.keygen_parties(req)?;
        self.all_up(&members, "a key generation")?;
        let aux = super::super::off_worker(|| {
            crate::ceremony::default_aux(&self.home, req.scheme, &members)
        });
        let plan = Plan::Keygen(KeygenPlan {
            version: 1,
            scheme: req.scheme,
            threshold: req.threshold,
            parties: members.clone(),
            label: req.label.clone().unwrap_or_default(),
            expires_at: now() + self.config.keygen_timeout.as_secs() + 60,
            nonce: fresh_nonce(),
            aux,
        })
        .validated()
        .map_err(|e| Error::BadRequest(e.to_string()))?;
        let others: Vec<&Card> = members.iter().filter(|c| !self.cluster.is_me(c)).collect();
        self.coordinate(plan, &others, self.config.keygen_timeout, true)
            .await
    }

    /// The nodes a key generation of `req` would run among, checked before it starts
    /// (each a member, this node one of them, a threshold they can meet), so a request
    /// that cannot work is refused with 400 rather than answered with a job that fails.
    pub fn keygen_parties(&self, req: &KeygenRequest) -> Result<Vec<Card>> {
        let members: Vec<Card> = match &req.nodes {
            None => self.cluster.members(),
            Some(names) => self.members_named(names)?,
        };
        if !members.iter().any(|c| self.cluster.is_me(c)) {
            return Err(Error::BadRequest(
                "the coordinating node must be one of the key's nodes".into(),
            ));
        }
        let n = members.len();
        if usize::from(req.threshold) < 2 || usize::from(req.threshold) > n {
            return Err(Error::BadRequest(format!(
                "`threshold` must be from 2 to the number of nodes ({n})"
            )));
        }
        Ok(members)
    }

    /// The cluster members of these names, in order; 400 naming the first that is none.
    fn members_named(&self, names: &[String]) -> Result<Vec<Card>> {
        names
            .iter()
            .map(|n| {
                self.cluster
                    .member_named(n)
                    .ok_or_else(|| Error::BadRequest(format!("`{n}` is not a cluster member")))
            })
            .collect()
    }

    /// Drops what this node keeps in memory for `key_id` (its share was refreshed): the
    /// loaded share, nonces and commitments, and its presignatures (made with the old
    /// shares).
    pub(in crate::serve) fn forget_key(&self, key_id: &str) {
        self.pools.forget(key_id);
        self.presigs.forget(key_id);
        // New shares want new nonces.
        self.pools.drawn.notify_one();
    }

    /// `Ok` when every one of `nodes` is up (this node is), else 503 naming the others.
    fn all_up(&self, nodes: &[Card], what: &str) -> Result<()> {
        let down: Vec<String> = nodes
            .iter()
            .filter(|c| !self.cluster.is_up(c))
            .map(|c| c.name.clone())
            .collect();
        if down.is_empty() {
            return Ok(());
        }
        Err(Error::NotEnoughNodes {
            message: format!(
                "{what} needs every node; not reachable: {}",
                down.join(", ")
            ),
            unreachable: down,
        })
    }

    /// Coordinates a refresh of `key` among all its nodes (`POST /keys/{id}/rotate`):
    /// new shares of the same public key, the old ones destroyed once every node has
    /// confirmed (`ceremony::shares`).
    pub async fn rotate(&self, key: &KeyRecord, request_id: &str) -> Result<Outcome> {
        let scheme = key.scheme;
        let parties = key.parties()?;
        self.all_up(&parties, "a rotation")?;
        if scheme == Scheme::EcdsaSecp256k1 && key.threshold != key.n {
            // cggmp21 0.6 refreshes only n-of-n ECDSA shares: a threshold key rotates by
            // a reshare to the same nodes and threshold, every node dealing, with new
            // aux info (new Paillier keys).
            let req = ReshareRequest {
                nodes: parties.iter().map(|c| c.name.clone()).collect(),
                threshold: None,
            };
            let label = format!("api request {request_id}");
            let plan = super::super::off_worker(|| {
                self.reshare_plan(key, &req, label, Some(AuxMode::Generate))
            })?;
            return self.reshare(plan).await;
        }
        let _slot = self.sessions.slot()?;
        let plan = Plan::Refresh(RefreshPlan {
            version: 1,
            scheme,
            key_id: key.id.clone(),
            group_public_key: key.public_key.clone(),
            threshold: key.threshold,
            parties: parties.clone(),
            label: format!("api request {request_id}"),
            expires_at: now() + self.config.keygen_timeout.as_secs() + 60,
            nonce: fresh_nonce(),
        })
        .validated()
        .map_err(|e| Error::BadRequest(e.to_string()))?;
        let others: Vec<&Card> = parties.iter().filter(|c| !self.cluster.is_me(c)).collect();
        let outcome = self
            .coordinate(plan, &others, self.config.keygen_timeout, true)
            .await;
        // Whatever happened, the share held in memory may be stale now.
        self.forget_key(&key.id);
        outcome
    }

    /// The plan of a reshare of `key` as `req` asks (`POST /keys/{id}/reshare`), checked
    /// before anything starts: a key this node holds an active share of, new holders
    /// that are members, and at least the key's threshold of its holders up to deal
    /// (every holder that is up deals). An ECDSA key's new holders get aux info as `aux`
    /// says, by default reusing the new node set's if this node holds it.
    pub fn reshare_plan(
        &self,
        key: &KeyRecord,
        req: &ReshareRequest,
        label: String,
        aux: Option<AuxMode>,
    ) -> Result<Valid<Plan>> {
        let scheme = key.scheme;
        if key.status != crate::store::db::KeyStatus::Active {
            return Err(Error::KeyNotActive(format!(
                "key {} is {} on this node; a reshare needs it active",
                key.id,
                key.status.as_str()
            )));
        }
        let key_parties = key.parties()?;
        let holders = self.members_named(&req.nodes)?;
        let dealers: Vec<u16> = key_parties
            .iter()
            .enumerate()
            .filter(|(_, c)| self.cluster.is_up(c))
            .map(|(i, _)| i as u16 + 1)
            .collect();
        if dealers.len() < usize::from(key.threshold) {
            let down: Vec<String> = key_parties
                .iter()
                .filter(|c| !self.cluster.is_up(c))
                .map(|c| c.name.clone())
                .collect();
            return Err(Error::NotEnoughNodes {
                message: format!(
                    "a reshare needs {} of the key's nodes up to deal; not reachable: {}",
                    key.threshold,
                    down.join(", ")
                ),
                unreachable: down,
            });
        }
        let share = crate::ceremony::load_share(&self.home, &self.identity, &key.id)
            .map_err(|e| Error::NoShare(e.message().to_string()))?;
        Plan::Reshare(crate::plan::ResharePlan::new(crate::plan::ReshareSpec {
            key_id: key.id.clone(),
            scheme,
            group_public_key: key.public_key.clone(),
            public_key_package: crate::ceremony::public_side(scheme, &share)
                .map_err(|e| Error::internal(e.message()))?,
            threshold: key.threshold,
            key_parties,
            dealers,
            aux: aux.or_else(|| crate::ceremony::default_aux(&self.home, scheme, &holders)),
            holders,
            new_threshold: req.threshold.unwrap_or(key.threshold),
            label,
            expires_at: now() + self.config.keygen_timeout.as_secs() + 60,
        }))
        .validated()
        .map_err(|e| Error::BadRequest(e.to_string()))
    }

    /// Coordinates a reshare by `plan` (from [`Node::reshare_plan`]; `POST
    /// /keys/{id}/reshare`): the nodes it names hold the key afterwards with its
    /// threshold; the public key stays (`ceremony::reshare`).
    pub async fn reshare(&self, plan: Valid<Plan>) -> Result<Outcome> {
        let _slot = self.sessions.slot()?;
        let key_id = plan
            .key()
            .map(|(id, _)| id.to_string())
            .ok_or_else(|| Error::internal("a reshare plan names no key"))?;
        let parties = plan.parties().to_vec();
        self.all_up(&parties, "a reshare")?;
        let others: Vec<&Card> = parties.iter().filter(|c| !self.cluster.is_me(c)).collect();
        let outcome = self
            .coordinate(plan, &others, self.config.keygen_timeout, true)
            .await;
        // Whatever happened, the share held in memory may be stale now.
        self.forget_key(&key_id);
        outcome
    }

    /// Proposes `plan` to `others` and runs this node's part within `budget`. With
    /// `confirm`, also waits (within the budget) until every other node reports its
    /// part over, so a key is reported made only once every node holds its share.
    pub(in crate::serve) async fn coordinate(
        &self,
        plan: Valid<Plan>,
        others: &[&Card],
        budget: Duration,
        confirm: bool,
    ) -> Result<Outcome> {
        let deadline = Instant::now() + budget;
        // The inbox opens before the proposal leaves, so no early answer is missed.
        let opened = self.open(plan.session_id());
        let sid = hex::encode(opened.session);
        let proposal = NodeMsg::Propose {
            plan: plan.to_json(),
        };
        self.tell(others, &proposal).map_err(Error::BusDown)?;
        let span = super::session_span(&plan);
        let run = self.run_session(plan, deadline, &opened.inbox);
        let outcome = tracing::Instrument::instrument(run, span).await?;
        if confirm {
            let reports = opened.inbox.wait_finished(others.len(), deadline).await;
            if let Some(bad) = reports.iter().find(|f| !f.ok) {
                return Err(Error::NodeFailed {
                    node: bad.node.clone(),
                    detail: bad.detail.clone(),
                }
                .session(&sid));
            }
            awaited(
                others,
                |n| reports.iter().any(|f| f.node == n),
                "not confirmed in time by",
            )
            .map_err(|e| e.session(&sid))?;
        }
        Ok(outcome)
    }
}

/// `POST /keys/{id}/reshare`.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReshareRequest {
    /// The nodes that hold the key afterwards, by name, in the new key's order (cluster
    /// members; any mix of the key's nodes and others).
    #[schema(min_items = 2)]
    pub nodes: Vec<String>,
    /// The new threshold (default: the key's; at most the number of nodes).
    #[serde(default)]
    #[schema(minimum = 2)]
    pub threshold: Option<u16>,
}

/// `POST /keys`.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeygenRequest {
    /// The scheme.
    pub scheme: Scheme,
    /// Signers required (at least 2, at most the number of nodes).
    #[schema(minimum = 2)]
    pub threshold: u16,
    /// A label.
    #[serde(default)]
    pub label: Option<String>,
    /// The nodes that hold shares, by name (default: every member); the node asked
    /// must be one of them.
    #[serde(default)]
    #[schema(min_items = 2)]
    pub nodes: Option<Vec<String>>,
}
