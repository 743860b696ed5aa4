//! The Docker Engine API, as live mode uses it (through `bollard`).
//!
//! What it guarantees:
//! - [`Engine::connect`] negotiates the API version with the engine (the engine may be older
//!   than the newest version `bollard` speaks), and tells apart the failures a user can fix:
//!   no engine at the socket, no permission on the socket, an engine that does not answer.
//! - Every container started here publishes the workload port on 127.0.0.1 only, on a port the
//!   engine picks (so two containers never conflict over a host port), and carries the labels
//!   [`LABEL_MANAGED`]`=true` and [`LABEL_RUN`]`=<run id>`, by which a run finds, and removes,
//!   its own containers and nothing else.

use crate::error::Error;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use std::collections::HashMap;

/// Label on every container live mode starts.
pub const LABEL_MANAGED: &str = "autoscale-sim.managed";
/// Label naming the run a container belongs to.
pub const LABEL_RUN: &str = "autoscale-sim.run";
/// The port `serve` listens on inside a container.
pub const CONTAINER_PORT: u16 = 8080;

/// A connection to a Docker engine.
#[derive(Clone, Debug)]
pub struct Engine {
    docker: Docker,
    /// Where the engine was reached, for messages.
    pub socket: String,
    /// The API version both sides speak.
    pub api_version: String,
    /// The engine's own version.
    pub engine_version: String,
}

/// A container as listed by the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub image: String,
    /// `running`, `exited`, `created`, ...
    pub state: String,
    pub labels: HashMap<String, String>,
    /// The host port (on 127.0.0.1) of the workload port, when published.
    pub host_port: Option<u16>,
}

/// A container that has been started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    pub id: String,
    pub name: String,
    /// The host port on 127.0.0.1 that reaches the container's workload port.
    pub host_port: u16,
}

/// Finds an I/O error kind anywhere in an error's chain of sources.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

/// The full text of an error and its sources.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        let t = err.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = err.source();
    }
    s
}

/// Whether an engine error is a 404 (no such image or container).
fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Engine {
    /// Connects to the local engine (`DOCKER_HOST` when it is a `unix://` address, else
    /// `/var/run/docker.sock`) and negotiates the API version.
    pub async fn connect() -> Result<Engine, Error> {
        let socket = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| h.starts_with("unix://"))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let fix = "start the Docker engine (for example `systemctl start docker`, or `dockerd &` as root), or point DOCKER_HOST at its socket (unix:///path/to/docker.sock)";
        let docker = Docker::connect_with_local_defaults().map_err(|e| {
            Error::Other(format!(
                "no Docker engine: cannot reach {socket} ({}); {fix}",
                chain(&e)
            ))
        })?;
        let docker = docker.negotiate_version().await.map_err(|e| {
            let path = socket.trim_start_matches("unix://");
            Error::Other(match io_kind(&e) {
                Some(std::io::ErrorKind::PermissionDenied) => format!(
                    "no access to the Docker engine: permission denied on {path}; run as root or as a member of the `docker` group"
                ),
                Some(std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => {
                    format!("no Docker engine: nothing answers at {path}; {fix}")
                }
                _ => format!(
                    "no Docker engine: the engine at {path} did not answer ({}); {fix}",
                    chain(&e)
                ),
            })
        })?;
        let version = docker
            .version()
            .await
            .map_err(|e| Error::Other(format!("the Docker engine at {socket} failed: {e}")))?;
        Ok(Engine {
            api_version: docker.client_version().to_string(),
            engine_version: version.version.unwrap_or_default(),
            docker,
            socket,
        })
    }

    /// The `bollard` client, for what this module does not wrap.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// The id of image `image`, or `None` when the engine does not have it.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>, Error> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(Some(i.id.unwrap_or_default())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(Error::Other(format!(
                "the Docker engine failed to look up the image {image}: {e}"
            ))),
        }
    }

    /// Creates and starts a container of `image` running its entry point with `cmd`, with the
    /// workload port published on 127.0.0.1 and the given labels.
    pub async fn start_container(
        &self,
        name: &str,
        image: &str,
        cmd: Vec<String>,
        labels: HashMap<String, String>,
    ) -> Result<Started, Error> {
        let port = format!("{CONTAINER_PORT}/tcp");
        let mut bindings = HashMap::new();
        bindings.insert(
            port.clone(),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(String::new()),
            }]),
        );
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(cmd),
            labels: Some(labels),
            exposed_ports: Some(vec![port.clone()]),
            host_config: Some(HostConfig {
                port_bindings: Some(bindings),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default().name(name).build();
        let created = self
            .docker
            .create_container(Some(opts), body)
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    Error::Other(format!(
                        "the image {image} does not exist on this engine; build it with `autoscale-sim live image`"
                    ))
                } else {
                    Error::Other(format!("cannot create a container of {image}: {e}"))
                }
            })?;
        let id = created.id;
        if let Err(e) = self.docker.start_container(&id, None).await {
            let _ = self.remove_container(&id).await;
            return Err(Error::Other(format!(
                "cannot start container {name} of {image}: {e}"
            )));
        }
        let info = self
            .docker
            .inspect_container(&id, None::<InspectContainerOptions>)
            .await
            .map_err(|e| Error::Other(format!("cannot inspect container {name}: {e}")))?;
        let host_port = info
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|p| p.get(&port).cloned().flatten())
            .and_then(|b| b.into_iter().find_map(|b| b.host_port))
            .and_then(|p| p.parse::<u16>().ok());
        match host_port {
            Some(host_port) => Ok(Started {
                id,
                name: name.to_string(),
                host_port,
            }),
            None => {
                let _ = self.remove_container(&id).await;
                Err(Error::Other(format!(
                    "container {name} started but the engine published no host port for {port}"
                )))
            }
        }
    }

    /// Stops a container: SIGTERM, then SIGKILL after `grace_s` seconds.
    pub async fn stop_container(&self, id: &str, grace_s: i32) -> Result<(), Error> {
        let opts = StopContainerOptionsBuilder::default().t(grace_s).build();
        match self.docker.stop_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            // 304: already stopped.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(Error::Other(format!("cannot stop container {id}: {e}"))),
        }
    }

    /// Removes a container, running or not (a container already gone is fine).
    pub async fn remove_container(&self, id: &str) -> Result<(), Error> {
        let opts = RemoveContainerOptionsBuilder::default().force(true).build();
        match self.docker.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            // 409: removal already in progress.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(()),
            Err(e) => Err(Error::Other(format!("cannot remove container {id}: {e}"))),
        }
    }

    /// Every container (running or not) that carries label `key=value`.
    pub async fn containers_labelled(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<ContainerInfo>, Error> {
        let mut filters = HashMap::new();
        filters.insert("label".to_string(), vec![format!("{key}={value}")]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| Error::Other(format!("cannot list containers: {e}")))?;
        Ok(list
            .into_iter()
            .map(|c| ContainerInfo {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_default(),
                image: c.image.unwrap_or_default(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                host_port: c.ports.and_then(|ps| {
                    ps.into_iter()
                        .find(|p| p.private_port == CONTAINER_PORT && p.public_port.is_some())
                        .and_then(|p| p.public_port)
                }),
                labels: c.labels.unwrap_or_default(),
            })
            .collect())
    }

    /// Whether a container is running, and its exit code when it is not (`None` when the
    /// engine does not know it).
    pub async fn container_state(&self, id: &str) -> Result<Option<(bool, i64)>, Error> {
        match self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
        {
            Ok(info) => {
                let st = info.state.unwrap_or_default();
                Ok(Some((
                    st.running.unwrap_or(false),
                    st.exit_code.unwrap_or_default(),
                )))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(Error::Other(format!("cannot inspect container {id}: {e}"))),
        }
    }

    /// The last `lines` lines a container wrote (standard output and error), for messages.
    pub async fn logs_tail(&self, id: &str, lines: usize) -> String {
        use futures_util::StreamExt;
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(id, Some(opts));
        let mut out = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => out.push_str(&chunk.to_string()),
                Err(e) => {
                    out.push_str(&format!("(cannot read its log: {e})"));
                    break;
                }
            }
        }
        out
    }

    /// Removes every container of run `run` (label [`LABEL_RUN`]); returns how many.
    pub async fn remove_run(&self, run: &str) -> Result<usize, Error> {
        let list = self.containers_labelled(LABEL_RUN, run).await?;
        for c in &list {
            self.remove_container(&c.id).await?;
        }
        Ok(list.len())
    }
}
