#include "chaos/demo.hpp"

#include <cstdio>
#include <map>

namespace vixy::chaos {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Traffic {
  int sent = 0;
  int ok = 0;
  std::map<std::string, int> by_node;
  std::map<int, int> failures;  // status -> count
};

// One client request through the proxy: which node answered (from web3_clientVersion).
void send_one(Cluster& cluster, Traffic& traffic) {
  ++traffic.sent;
  auto r = cluster.proxy_post("/el", json{{"jsonrpc", "2.0"}, {"id", traffic.sent}, {"method", "web3_clientVersion"}}
                                         .dump());
  auto body = json::parse(r.body, nullptr, false);
  if (r.ec || r.status != 200 || !body.is_object() || !body.contains("result")) {
    ++traffic.failures[r.ec ? 0 : r.status];
    return;
  }
  ++traffic.ok;
  std::string version = body["result"].get<std::string>();
  ++traffic.by_node[version.substr(version.rfind('/') + 1)];
}

void print_status(Cluster& cluster) {
  auto s = cluster.status();
  if (!s.is_object()) {
    std::printf("  (status unavailable)\n");
    return;
  }
  std::printf("  el head %llu, cl head %llu, failover %s\n",
              static_cast<unsigned long long>(s.value("el_chain_head", 0ULL)),
              static_cast<unsigned long long>(s.value("cl_chain_head", 0ULL)),
              s.value("el_failover_active", false) ? "ACTIVE" : "off");
  for (const char* layer : {"el_nodes", "cl_nodes"}) {
    for (const auto& n : s[layer]) {
      std::printf("  %-3s %-11s %-8s healthy=%-5s check=%-7s height=%llu lag=%llu\n", layer == std::string("el_nodes") ? "el" : "cl",
                  n.value("name", "?").c_str(), n.value("tier", "primary").c_str(),
                  n.value("is_healthy", false) ? "yes" : "no", n.value("check_result", "?").c_str(),
                  static_cast<unsigned long long>(n.value("block_number", n.value("slot", 0ULL))),
                  static_cast<unsigned long long>(n.value("lag", 0ULL)));
    }
  }
}

// Sends requests every 20 ms until `condition` holds on /status; the time it took, or -1.
long long drive_until(Cluster& cluster, Traffic& traffic, const std::function<bool(const json&)>& condition,
                      std::chrono::seconds limit) {
  auto start = Clock::now();
  while (Clock::now() - start < limit) {
    send_one(cluster, traffic);
    auto s = cluster.status();
    if (s.is_object() && condition(s)) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool healthy(const json& s, const char* name) { return Cluster::find_node(s, name).value("is_healthy", false); }

}  // namespace

int run_demo(const Binaries& binaries) {
  std::printf("vixy demo: two fake EL nodes (primary, backup), one fake CL node, the real vixy binary\n");
  ClusterOptions options;
  options.global_toml = "health_check_max_failures = 2\n";
  Cluster cluster(binaries, options);
  std::printf("started: vixy on 127.0.0.1:%u (pid %d), config %s\n", cluster.proxy_port(),
              static_cast<int>(cluster.proxy().pid()), cluster.config_path().c_str());
  for (const auto& n : cluster.nodes()) {
    std::printf("  fake %s node %-11s rpc 127.0.0.1:%u admin 127.0.0.1:%u (pid %d)\n", n.kind.c_str(), n.name.c_str(),
                n.rpc_port, n.admin_port, static_cast<int>(n.process->pid()));
  }

  // No traffic yet: until the first health round, vixy rightly answers 503.
  std::printf("\n1. waiting for every node to be healthy\n");
  if (!cluster.wait_for_status(
          [](const json& s) { return healthy(s, "el-primary") && healthy(s, "el-backup") && healthy(s, "cl-node"); },
          std::chrono::seconds(15))) {
    std::printf("nodes did not become healthy; vixy log:\n%s\n", cluster.proxy().log().c_str());
    return 1;
  }
  print_status(cluster);

  std::printf("\n2. 50 JSON-RPC requests through POST /el, and the beacon node through /cl\n");
  Traffic before;
  for (int i = 0; i < 50; ++i) send_one(cluster, before);
  for (const auto& [node, count] : before.by_node) std::printf("  %d answered by %s\n", count, node.c_str());
  auto cl = cluster.proxy_get("/cl/eth/v1/node/version");
  std::printf("  GET /cl/eth/v1/node/version -> %d %s\n", cl.status, cl.body.c_str());

  std::printf("\n3. killing el-primary through its admin API, requests keep flowing\n");
  cluster.admin("el-primary", "/kill");
  Traffic during;
  auto failover_ms = drive_until(cluster, during, [](const json& s) { return s.value("el_failover_active", false); },
                                 std::chrono::seconds(15));
  std::printf("  /status shows failover after %lld ms\n", failover_ms);
  print_status(cluster);

  std::printf("\n4. restarting el-primary: vixy moves back to it\n");
  cluster.admin("el-primary", "/restart");
  auto failback_ms = drive_until(
      cluster, during,
      [](const json& s) { return healthy(s, "el-primary") && !s.value("el_failover_active", true); },
      std::chrono::seconds(15));
  std::printf("  back on the primary after %lld ms\n", failback_ms);
  print_status(cluster);

  int sent = before.sent + during.sent;
  int ok = before.ok + during.ok;
  std::printf("\nsummary\n");
  std::printf("  requests sent through vixy: %d, answered: %d, failed: %d\n", sent, ok, sent - ok);
  for (const auto& [node, count] : during.by_node) {
    std::printf("  during the outage and recovery, %d answered by %s\n", count, node.c_str());
  }
  for (const auto& [status, count] : during.failures) {
    std::printf("  %d failed with %s\n", count, status == 0 ? "a transport error" : std::to_string(status).c_str());
  }
  std::printf("  failover seen in /status after %lld ms; failback after %lld ms\n", failover_ms, failback_ms);
  bool passed = ok == sent && failover_ms >= 0 && failback_ms >= 0;
  std::printf("  result: %s\n", passed ? "PASS (no request lost, failover and failback observed)" : "FAIL");
  return passed ? 0 : 1;
}

}  // namespace vixy::chaos
