#pragma once
// A scenario file (scenarios/*.json): topology, proxy settings, workload, fault timeline and
// expectations. Parsing is strict: an unknown key or a bad value is rejected with a message that
// names its path, e.g. `timeline[2].action: unknown action "kil"`. scenarios/README.md documents
// the format with an annotated example.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vixy::chaos {

struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Topology {
  std::vector<std::string> el_primaries{"el-primary"};
  std::vector<std::string> el_backups{"el-backup"};
  // EL nodes started (injectable, targetable) but left out of the proxy's configuration until a
  // reload event names them: the way to add a node the proxy has never seen.
  std::vector<std::string> el_spares;
  std::vector<std::string> cl_nodes;
  std::uint64_t chain_seed = 7;
  int block_time_ms = 250;
  bool injectors = true;  // put a fault injector in front of every node (when the build has one)
};

struct ProxySettings {
  std::vector<std::pair<std::string, nlohmann::json>> global;  // [global] keys, in file order
  std::string extra_toml;                                       // further tables, verbatim
};

enum class IdStyle { sequential, reused, string };

// Clients that attack the proxy beside the well-behaved ones (chaos/hostile.hpp). What they get is
// counted in the report, never judged by the invariants: those hold for the well-behaved clients,
// whom the hostile ones must not reach.
struct HostileWorkload {
  int slow_readers = 0;                    // WebSocket clients that subscribe, then never read
  int slow_reader_subscriptions = 200;     // newHeads subscriptions each
  double nested_json_per_second = 0;       // in total, over POST /el and WebSocket in turn
  int nested_depth = 100'000;              // arrays/objects nested this deep
  double huge_batches_per_second = 0;      // in total, over POST /el and WebSocket in turn
  int huge_batch_size = 5'000;             // requests per batch
  int idle_connections = 0;                // TCP connections that never send a byte (reopened when closed)
  double connection_flood_per_second = 0;  // connections opened and closed at once
  bool any() const {
    return slow_readers > 0 || nested_json_per_second > 0 || huge_batches_per_second > 0 || idle_connections > 0 ||
           connection_flood_per_second > 0;
  }
};

struct Workload {
  int duration_ms = 10'000;
  int drain_ms = 5'000;  // after the last request: how long answers may still arrive
  int ws_clients = 4;
  int subscriptions_per_client = 2;
  std::vector<std::string> subscription_kinds{"newHeads"};  // used round-robin
  nlohmann::json logs_filter = nlohmann::json::object();    // of every logs subscription: address, topics
  double requests_per_second = 10;                          // per client
  std::vector<std::pair<std::string, double>> method_mix{{"eth_blockNumber", 1}};
  IdStyle id_style = IdStyle::sequential;
  int probe_interval_ms = 200;      // web3_clientVersion per client, for failback (I6)
  int resubscribe_every_ms = 0;     // per client: unsubscribe one subscription and subscribe anew
  int reconnect_every_ms = 0;       // per client: close and reconnect (mass reconnection)
  // Per client: this many requests at once just before and just after every timeline event, so
  // that requests are in flight when a fault hits (and right after it, while the proxy switches).
  int fault_bursts = 0;
  double http_requests_per_second = 0;  // POST /el, in total
  // CL event-stream listeners: each GETs /cl/eth/v1/events?topics=... and, like a browser
  // EventSource, opens a new stream sse_retry_ms after one ends or fails to open.
  int sse_listeners = 0;
  std::vector<std::string> sse_topics{"head"};
  int sse_retry_ms = 1000;
  HostileWorkload hostile;
};

struct TimelineEvent {
  int at_ms = 0;  // since the workload started
  std::string action;
  std::string target;  // a node name, or "proxy" for proxy_signal and reload
  nlohmann::json args = nlohmann::json::object();
};

struct Expectations {
  std::vector<std::string> invariants{"I1", "I2", "I3", "I6"};
  int failback_within_ms = 3'000;
  std::optional<double> max_error_rate;  // error answers / answers, WebSocket and HTTP together
  std::optional<double> p99_ms;
  // Longest any well-behaved request (WebSocket or HTTP) may wait for its answer; nullopt: the
  // longest wait is reported, not judged. A request never answered is I1's concern.
  std::optional<double> max_latency_ms;
  // Longest a CL listener may go without a head event (across its reconnections), except while
  // every CL node is down; nullopt: the longest gap is reported, not judged.
  std::optional<int> sse_max_gap_ms;
};

struct Scenario {
  std::string name;
  std::string description;
  Topology topology;
  ProxySettings proxy;
  Workload workload;
  std::vector<TimelineEvent> timeline;  // sorted by at_ms (stable)
  Expectations expectations;
};

Scenario parse_scenario(const nlohmann::json& document);
// Reads and parses a file; errors are prefixed with the file name.
Scenario load_scenario(const std::string& path);
nlohmann::json scenario_to_json(const Scenario& scenario);

// Actions that only a fault injector can carry out (the rest go through the fake nodes' admin API).
bool action_needs_injector(const std::string& action);

// When every EL primary (and the proxy) is fault-free for good, in ms since the workload started:
// 0 when none ever had a fault; nullopt (with the reason) when one is still faulted at the end.
struct Recovery {
  std::optional<int> healthy_from_ms;
  std::string reason;
};
Recovery primaries_recovery(const Scenario& scenario);

// The EL primaries the proxy is configured with once the timeline is over: the last reload's
// (args.el_primaries), else the topology's. Failback (I6) is owed to these.
std::vector<std::string> final_el_primaries(const Scenario& scenario);

// The periods (ms since the workload started, [from, to)) in which every CL node is killed, paused
// or blackholed; `to` is INT_MAX when they stay so. A CL listener cannot be owed events then.
std::vector<std::pair<int, int>> cl_outages(const Scenario& scenario);

}  // namespace vixy::chaos
