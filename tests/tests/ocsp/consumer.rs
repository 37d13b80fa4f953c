//! A real consumer: nginx checking client certificates by OCSP (`ssl_verify_client on; ssl_ocsp on;`) at the
//! responder URL the certificates name, served by `certkit-ca ocsp serve`. A valid person gets in; a revoked
//! one is refused once the next series is published; curl presents the certificates.

use super::*;

/// nginx started by the test with its own configuration; stopped when dropped.
struct Nginx {
    child: Child,
    log: PathBuf,
}

impl Nginx {
    fn start(env: &Env, port: u16) -> Nginx {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("nginx is installed by scripts/lib/deps.sh (package nginx-light)");
        let dir = env.path("nginx");
        std::fs::create_dir_all(&dir).expect("nginx folder");
        let log = dir.join("error.log");
        let conf = format!(
            r#"daemon off;
master_process off;
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
        ssl_certificate {www};
        ssl_certificate_key {www_key};
        ssl_client_certificate {ca};
        ssl_verify_client on;
        ssl_ocsp on;
        location / {{ return 200 "hello $ssl_client_s_dn\n"; }}
    }}
}}
"#,
            dir = dir.display(),
            www = env.path("www.pem").display(),
            www_key = env.path("www-plain.key").display(),
            ca = env.path("pki/ca.pem").display(),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("nginx.conf");
        let child = env
            .command(binary)
            .args(["-e", "stderr", "-p"])
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).expect("log"))
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx { child, log };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!(
                    "nginx exited ({status}): {}",
                    text(&env.read("nginx/stderr.log"))
                );
            }
            assert!(Instant::now() < deadline, "nginx did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// curl presenting the client certificate `who` (PEM and its unencrypted key) to nginx: the HTTP status and
/// the body.
fn visit(env: &Env, port: u16, who: &str) -> (String, String) {
    let out = env.tool(
        "curl",
        &cli(&format!(
            "-sS --max-time 20 --cacert pki/ca.pem --cert {who}.pem --key {who}-plain.key -o {who}.body -w %{{http_code}} https://localhost:{port}/ --resolve localhost:{port}:127.0.0.1"
        )),
    );
    (
        text(&out.stdout).trim().to_string(),
        text(&env.read(&format!("{who}.body"))),
    )
}

#[test]
fn nginx_refuses_a_revoked_person_once_the_next_series_is_published() {
    let env = Env::new();
    let ocsp_port = free_port();
    let tls_port = free_port();
    let url = format!("http://127.0.0.1:{ocsp_port}/");
    env.init_ca_with("pki", &["--key", "p256", "--ocsp-url", &url]);
    env.issue(&cli(
        "server --ca pki --cn localhost --dns localhost --out www --key p256",
    ));
    for who in ["alice", "bob"] {
        env.issue(&cli(&format!(
            "client --ca pki --cn {who} --out {who} --key p256"
        )));
    }
    for who in ["www", "alice", "bob"] {
        env.openssl_ok(&cli(&format!(
            "pkey -in {who}.key -passin env:KEY_PW -out {who}-plain.key"
        )));
    }
    sign(&env, "pki", "ocsp", "--series 2 --every 7");
    let responder = Responder::start(&env, "ocsp", ocsp_port, &[]);
    let nginx = Nginx::start(&env, tls_port);

    for who in ["alice", "bob"] {
        let (code, body) = visit(&env, tls_port, who);
        assert_eq!(
            code,
            "200",
            "{who}: {body}\n{}\n{}",
            nginx.log(),
            responder.log()
        );
        assert!(body.contains(&format!("CN={who}")), "{body}");
    }
    // nginx asked the responder the certificates name (one request per handshake: no OCSP cache).
    assert!(
        responder.log().contains(" good window="),
        "{}",
        responder.log()
    );

    // Bob leaves: revoked, and the next series published into the responder's folder.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason affiliationChanged --ca-pass env:CA_PW"),
    );
    std::thread::sleep(Duration::from_millis(1100));
    sign(&env, "pki", "ocsp", "--series 2 --every 7");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, _) = visit(&env, tls_port, "bob");
        if code != "200" {
            // nginx answers 400 ("The SSL certificate error") and logs the OCSP verdict.
            assert_eq!(code, "400");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bob still gets in:\n{}",
            responder.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        nginx.log().contains("revoked"),
        "nginx says why: {}",
        nginx.log()
    );
    let (code, body) = visit(&env, tls_port, "alice");
    assert_eq!(code, "200", "alice is still in: {body}\n{}", nginx.log());
}
