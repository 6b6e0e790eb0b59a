#pragma once
// A small deployment on loopback: fake EL and CL nodes (each its own vixy-fakenode process) and
// the real vixy binary configured to use them, all on ports the system picks. Used by the
// integration tests and the demo; every process is stopped by PID when the Cluster goes away.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/http_client.hpp"
#include "chaos/process.hpp"

namespace vixy::chaos {

struct FakeNode;

struct Binaries {
  std::string vixy;
  std::string fakenode;
};

struct ClusterOptions {
  std::vector<std::string> el_primaries{"el-primary"};
  std::vector<std::string> el_backups{"el-backup"};
  // Started like the others but left out of the configuration until rewrite_config names them.
  std::vector<std::string> el_spares;
  std::vector<std::string> cl_nodes{"cl-node"};
  std::uint64_t chain_seed = 42;
  int block_time_ms = 200;
  bool tls = false;              // nodes also serve TLS; vixy uses https:// URLs and a generated CA
  std::string el_url_path = "/";  // path of every EL URL, e.g. "/v3/<key>" like a paid provider
  std::string el_userinfo;       // "user:pass" put into every EL URL when not empty
  std::string global_toml;       // extra lines for [global], e.g. "max_retries = 1\n"
  std::string extra_toml;        // extra tables appended to the config
  bool start_proxy = true;
  // When not 0, vixy starts with this descriptor limit (soft and hard, as `ulimit -n` sets it).
  std::uint64_t proxy_descriptor_limit = 0;
  // When set, the port the proxy's config uses for a node (e.g. a fault injector in front of it);
  // nodes' own ports otherwise. Called when the proxy starts, so injectors can be made after nodes.
  std::function<std::uint16_t(const FakeNode&)> upstream_port;
};

struct FakeNode {
  std::string name;
  std::string kind;  // "el" or "cl"
  std::unique_ptr<ChildProcess> process;
  std::uint16_t rpc_port = 0;
  std::uint16_t admin_port = 0;
  std::uint16_t tls_port = 0;
};

class Cluster {
 public:
  Cluster(Binaries binaries, ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Called with vixy's exit status when a cluster stops it (nullopt: it outlived SIGTERM and its
  // shutdown deadline and was killed), so a test harness can fail a test whose vixy did not exit
  // cleanly: a crash, a hang, a sanitizer report at exit. One for the whole process.
  using ProxyExitCheck = std::function<void(std::optional<int> status, const ChildProcess& proxy)>;
  static void set_proxy_exit_check(ProxyExitCheck check);

  FakeNode& node(std::string_view name);
  const std::vector<FakeNode>& nodes() const { return nodes_; }

  // Writes the configuration and starts vixy on 127.0.0.1:0; throws when it does not come up.
  void start_proxy();
  ChildProcess& proxy() { return *proxy_; }
  std::uint16_t proxy_port() const { return proxy_port_; }
  const std::string& config_path() const { return config_path_; }
  // Rewrites the configuration file start_proxy wrote, with the same settings and these EL nodes
  // (in this order), for a reload; the proxy is not told. Replaces the file at once (rename), so a
  // reader never sees half of it.
  void rewrite_config(std::vector<std::string> el_primaries, std::vector<std::string> el_backups);
  // The EL nodes the configuration file lists now.
  const std::vector<std::string>& configured_el_primaries() const { return options_.el_primaries; }
  const std::vector<std::string>& configured_el_backups() const { return options_.el_backups; }
  const TempDir& dir() const { return *dir_; }

  // The admin API of a fake node: POST path with a JSON body (GET for "/state").
  HttpResult admin(std::string_view node_name, std::string_view path, std::string body = "{}");
  HttpResult proxy_get(std::string target, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  HttpResult proxy_post(std::string target, std::string body,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // GET /status parsed; null when it could not be fetched.
  nlohmann::json status();
  // Polls /status until `condition` holds.
  bool wait_for_status(const std::function<bool(const nlohmann::json&)>& condition,
                       std::chrono::milliseconds timeout);
  // The node `name` in /status (el_nodes or cl_nodes), or null.
  static nlohmann::json find_node(const nlohmann::json& status, std::string_view name);

 private:
  void start_node(const std::string& name, const std::string& kind);
  std::string render_config() const;
  void make_tls_material();

  Binaries binaries_;
  ClusterOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::vector<FakeNode> nodes_;
  std::unique_ptr<ChildProcess> proxy_;
  std::uint16_t proxy_port_ = 0;
  std::string config_path_;
  std::string ca_file_;
};

// Runs a command line with /bin/sh, output into `log_path`; the exit code.
int run_shell(const std::string& command, const std::string& log_path);

}  // namespace vixy::chaos
