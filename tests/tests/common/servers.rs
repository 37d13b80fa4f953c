//! Real TLS servers the tests start on loopback with a configuration of their own: nginx and HAProxy, each
//! stopped when dropped. curl presents client certificates to them.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{Env, cli, text};

fn installed(names: &[&str], package: &str) -> &'static str {
    for name in names {
        for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin"] {
            let path = format!("{dir}/{name}");
            if std::path::Path::new(&path).exists() {
                return Box::leak(path.into_boxed_str());
            }
        }
    }
    panic!(
        "{} is installed by scripts/lib/deps.sh (package {package})",
        names[0]
    )
}

fn wait_listening(child: &mut Child, port: u16, what: &str, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "{what} did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// nginx (a master and one worker, in the foreground, so `-s reload` works as in production), its `server` block holding `listen 127.0.0.1:PORT ssl;`, `lines`, and a
/// location that answers 200 with the client's subject.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    conf: PathBuf,
}

impl Nginx {
    pub fn start(env: &Env, name: &str, port: u16, lines: &str) -> Nginx {
        let binary = installed(&["nginx"], "nginx-light");
        let dir = env.path(name);
        std::fs::create_dir_all(&dir).expect("nginx folder");
        let conf = format!(
            r#"daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        {lines}
        location / {{ return 200 "hello $ssl_client_s_dn\n"; }}
    }}
}}
"#,
            dir = dir.display(),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("nginx.conf");
        let mut child = env
            .command(binary)
            .args(["-e", "stderr", "-p"])
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).expect("log"))
            .spawn()
            .expect("start nginx");
        wait_listening(&mut child, port, "nginx", &dir.join("stderr.log"));
        Nginx {
            child,
            dir,
            conf: conf_path,
        }
    }

    /// Its error log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
            + &std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// The command that reloads it (`nginx -s reload` with its prefix and configuration).
    pub fn reload_command(&self) -> String {
        format!(
            "{} -e stderr -p {} -c {} -s reload",
            installed(&["nginx"], "nginx-light"),
            self.dir.display(),
            self.conf.display()
        )
    }
}

/// Stops a server that has workers: SIGTERM to the master (which stops them), SIGKILL after 5 s.
fn stop(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Nginx {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// HAProxy in master-worker mode in the foreground, one frontend on 127.0.0.1:PORT whose `bind` line ends with
/// `bind_options`, answering 200 with the client's subject.
pub struct Haproxy {
    child: Child,
    dir: PathBuf,
}

impl Haproxy {
    pub fn start(env: &Env, name: &str, port: u16, bind_options: &str) -> Haproxy {
        let binary = installed(&["haproxy"], "haproxy");
        let dir = env.path(name);
        std::fs::create_dir_all(&dir).expect("haproxy folder");
        let conf = format!(
            "global\n    log stderr format raw local0 info\n\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n\nfrontend tls\n    bind 127.0.0.1:{port} {bind_options}\n    http-request return status 200 content-type text/plain lf-string \"hello %[ssl_c_s_dn]\\n\"\n"
        );
        let conf_path = dir.join("haproxy.cfg");
        std::fs::write(&conf_path, conf).expect("haproxy.cfg");
        let check = env
            .command(binary)
            .arg("-c")
            .arg("-f")
            .arg(&conf_path)
            .output()
            .expect("haproxy -c");
        assert!(
            check.status.success(),
            "haproxy refuses the configuration: {}{}",
            text(&check.stdout),
            text(&check.stderr)
        );
        let mut child = env
            .command(binary)
            .args(["-W", "-db", "-f"])
            .arg(&conf_path)
            .arg("-p")
            .arg(dir.join("haproxy.pid"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).expect("log"))
            .spawn()
            .expect("start haproxy");
        wait_listening(&mut child, port, "haproxy", &dir.join("stderr.log"));
        Haproxy { child, dir }
    }

    /// Its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// The command that reloads it (SIGUSR2 to the master).
    pub fn reload_command(&self) -> String {
        format!("kill -USR2 {}", self.child.id())
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// curl presenting `cert` and its unencrypted `key` (no client certificate when `None`) to
/// https://localhost:PORT/, trusting `ca`: the HTTP status ("000" when the handshake fails) and the body.
pub fn visit(env: &Env, port: u16, ca: &str, client: Option<(&str, &str)>) -> (String, String) {
    let body = format!("visit-{port}.body");
    let _ = std::fs::remove_file(env.path(&body));
    let line = format!(
        "-sS --max-time 20 --cacert {ca} -o {body} -w %{{http_code}} https://localhost:{port}/ --resolve localhost:{port}:127.0.0.1"
    );
    let mut args = cli(&line);
    if let Some((cert, key)) = client {
        args.extend(["--cert", cert, "--key", key]);
    }
    let out = env.tool("curl", &args);
    (
        text(&out.stdout).trim().to_string(),
        std::fs::read_to_string(env.path(&body)).unwrap_or_default(),
    )
}

/// The SHA-1 fingerprint of the certificate the server on PORT presents, as openssl prints it (hex, colons).
pub fn served_fingerprint(env: &Env, port: u16) -> String {
    let out = env
        .command("bash")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{port} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha1"
        ))
        .output()
        .expect("s_client");
    text(&out.stdout)
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .replace(':', "")
}
