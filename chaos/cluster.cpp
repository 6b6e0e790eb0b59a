#include "chaos/cluster.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace vixy::chaos {
namespace {
constexpr auto kStartTimeout = std::chrono::seconds(15);
}

int run_shell(const std::string& command, const std::string& log_path) {
  ChildProcess shell({"/bin/sh", "-c", command}, log_path);
  auto status = shell.wait_for_exit(std::chrono::seconds(60));
  return status.value_or(-1);
}

Cluster::Cluster(Binaries binaries, ClusterOptions options)
    : binaries_(std::move(binaries)), options_(std::move(options)), dir_(std::make_unique<TempDir>("vixy-cluster")) {
  if (options_.tls) make_tls_material();
  for (const auto& name : options_.el_primaries) start_node(name, "el");
  for (const auto& name : options_.el_backups) start_node(name, "el");
  for (const auto& name : options_.el_spares) start_node(name, "el");
  for (const auto& name : options_.cl_nodes) start_node(name, "cl");
  if (options_.start_proxy) start_proxy();
}

namespace {
Cluster::ProxyExitCheck& proxy_exit_check() {
  static Cluster::ProxyExitCheck check;
  return check;
}
}  // namespace

void Cluster::set_proxy_exit_check(ProxyExitCheck check) { proxy_exit_check() = std::move(check); }

Cluster::~Cluster() {
  if (proxy_) {
    // Longer than vixy's default shutdown deadline (10 s), which connections still open may use.
    auto status = proxy_->terminate(std::chrono::seconds(15));
    if (proxy_exit_check()) proxy_exit_check()(status, *proxy_);
  }
  for (auto& node : nodes_) node.process->terminate(std::chrono::seconds(2));
}

void Cluster::make_tls_material() {
  // A throw-away CA and a server certificate for 127.0.0.1, made with the openssl CLI.
  const std::string& d = dir_->path();
  std::string cmd =
      "set -e; cd '" + d + "';"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=vixy test CA' -keyout ca.key -out ca.pem;"
      "openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout node.key -out node.csr;"
      "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf;"
      "openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out node.pem";
  if (run_shell(cmd, dir_->file("openssl.log")) != 0) {
    throw std::runtime_error("openssl failed; see " + dir_->file("openssl.log"));
  }
  ca_file_ = dir_->file("ca.pem");
}

void Cluster::start_node(const std::string& name, const std::string& kind) {
  std::vector<std::string> argv{binaries_.fakenode,
                                kind,
                                "--name",
                                name,
                                "--listen",
                                "127.0.0.1:0",
                                "--admin",
                                "127.0.0.1:0",
                                "--chain-seed",
                                std::to_string(options_.chain_seed),
                                "--block-time-ms",
                                std::to_string(options_.block_time_ms)};
  if (options_.tls) {
    argv.insert(argv.end(), {"--tls-listen", "127.0.0.1:0", "--tls-cert", dir_->file("node.pem"), "--tls-key",
                             dir_->file("node.key")});
  }
  FakeNode node{name, kind, std::make_unique<ChildProcess>(argv, dir_->file(name + ".log")), 0, 0, 0};
  auto rpc = node.process->wait_for_listening("rpc", kStartTimeout);
  auto admin = node.process->wait_for_listening("admin", kStartTimeout);
  if (!rpc || !admin) throw std::runtime_error("fake node " + name + " did not start:\n" + node.process->log());
  node.rpc_port = *rpc;
  node.admin_port = *admin;
  if (options_.tls) {
    auto tls = node.process->wait_for_listening("tls", kStartTimeout);
    if (!tls) throw std::runtime_error("fake node " + name + " did not serve TLS:\n" + node.process->log());
    node.tls_port = *tls;
  }
  nodes_.push_back(std::move(node));
}

std::string Cluster::render_config() const {
  std::string scheme = options_.tls ? "https" : "http";
  std::string ws_scheme = options_.tls ? "wss" : "ws";
  auto port_of = [&](const FakeNode& n) {
    if (options_.upstream_port) return std::to_string(options_.upstream_port(n));
    return std::to_string(options_.tls ? n.tls_port : n.rpc_port);
  };
  // The fast health defaults give way to the caller's own values (TOML forbids a key twice).
  std::string toml = "[global]\n";
  for (const char* key : {"health_check_interval_ms = 100\n", "health_check_timeout_ms = 500\n"}) {
    std::string name = std::string(key).substr(0, std::string(key).find(' '));
    if (options_.global_toml.find(name) == std::string::npos) toml += key;
  }
  toml += options_.global_toml + "\n";
  if (options_.tls) toml += "[tls]\nca_file = \"" + ca_file_ + "\"\n\n";
  toml += "[el]\n";
  // In list order, which is the proxy's order of preference within a tier.
  for (const auto* tier : {&options_.el_primaries, &options_.el_backups}) {
    for (const auto& name : *tier) {
      const FakeNode& n = *std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& x) { return x.name == name; });
      toml += tier == &options_.el_primaries ? "[[el.primary]]\n" : "[[el.backup]]\n";
      toml += "name = \"" + n.name + "\"\n";
      std::string authority = (options_.el_userinfo.empty() ? "" : options_.el_userinfo + "@") + "127.0.0.1:" + port_of(n);
      toml += "http_url = \"" + scheme + "://" + authority + options_.el_url_path + "\"\n";
      toml += "ws_url = \"" + ws_scheme + "://" + authority + options_.el_url_path + "\"\n\n";
    }
  }
  for (const auto& n : nodes_) {
    if (n.kind != "cl") continue;
    toml += "[[cl]]\nname = \"" + n.name + "\"\nurl = \"" + scheme + "://127.0.0.1:" + port_of(n) + "\"\n\n";
  }
  toml += options_.extra_toml;
  return toml;
}

void Cluster::start_proxy() {
  config_path_ = dir_->write("vixy.toml", render_config());
  std::vector<std::string> argv{binaries_.vixy, "--config", config_path_, "--listen", "127.0.0.1:0"};
  if (options_.proxy_descriptor_limit > 0) {
    // The shell sets the limit and then becomes vixy (same PID), so stopping it stops vixy.
    argv.insert(argv.begin(), {"/bin/sh", "-c",
                               "ulimit -n " + std::to_string(options_.proxy_descriptor_limit) + " && exec \"$0\" \"$@\""});
  }
  proxy_ = std::make_unique<ChildProcess>(std::move(argv), dir_->file("vixy.log"));
  auto port = proxy_->wait_for_listening("proxy", kStartTimeout);
  if (!port) throw std::runtime_error("vixy did not start:\n" + proxy_->log());
  proxy_port_ = *port;
}

void Cluster::rewrite_config(std::vector<std::string> el_primaries, std::vector<std::string> el_backups) {
  for (const auto* tier : {&el_primaries, &el_backups}) {
    for (const auto& name : *tier) {
      if (node(name).kind != "el") throw std::invalid_argument(name + " is not an EL node");
    }
  }
  if (config_path_.empty()) throw std::logic_error("rewrite_config before start_proxy");
  options_.el_primaries = std::move(el_primaries);
  options_.el_backups = std::move(el_backups);
  std::string next = dir_->write("vixy.toml.next", render_config());
  if (std::rename(next.c_str(), config_path_.c_str()) != 0) {
    throw std::runtime_error("cannot replace " + config_path_ + ": " + std::strerror(errno));
  }
}

FakeNode& Cluster::node(std::string_view name) {
  for (auto& n : nodes_) {
    if (n.name == name) return n;
  }
  throw std::invalid_argument("no fake node named " + std::string(name));
}

HttpResult Cluster::admin(std::string_view node_name, std::string_view path, std::string body) {
  auto& n = node(node_name);
  if (path == "/state") return http_request("127.0.0.1", n.admin_port, boost::beast::http::verb::get, "/state");
  return http_request("127.0.0.1", n.admin_port, boost::beast::http::verb::post, std::string(path), std::move(body));
}

HttpResult Cluster::proxy_get(std::string target, std::chrono::milliseconds timeout) {
  return http_request("127.0.0.1", proxy_port_, boost::beast::http::verb::get, std::move(target), "", {}, timeout);
}

HttpResult Cluster::proxy_post(std::string target, std::string body, std::chrono::milliseconds timeout) {
  return http_request("127.0.0.1", proxy_port_, boost::beast::http::verb::post, std::move(target), std::move(body),
                      {{"Content-Type", "application/json"}}, timeout);
}

nlohmann::json Cluster::status() {
  auto r = proxy_get("/status", std::chrono::seconds(2));
  if (r.ec || r.status != 200) return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

bool Cluster::wait_for_status(const std::function<bool(const nlohmann::json&)>& condition,
                              std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        auto s = status();
        return !s.is_null() && !s.is_discarded() && condition(s);
      },
      timeout);
}

nlohmann::json Cluster::find_node(const nlohmann::json& status, std::string_view name) {
  for (const char* layer : {"el_nodes", "cl_nodes"}) {
    if (!status.contains(layer)) continue;
    for (const auto& n : status.at(layer)) {
      if (n.value("name", "") == name) return n;
    }
  }
  return nullptr;
}

}  // namespace vixy::chaos
