#pragma once
// Carries out timeline actions: on a fake node's admin API, on the fault injector in front of the
// node, or on the proxy process. The injector (chaos/injector.hpp, INJECTOR_API.md) plugs in
// through the Relay seam below; a build without it still runs every action the admin API can do
// and refuses, before the run starts, the ones only an injector can (latency, reset).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/checker_gapless.hpp"
#include "chaos/cluster.hpp"
#include "chaos/scenario.hpp"

namespace vixy::chaos {

// A TCP relay in front of one node, with faults switched at run time.
class Relay {
 public:
  virtual ~Relay() = default;
  virtual std::uint16_t port() const = 0;
  virtual void latency(std::chrono::milliseconds ms, std::chrono::milliseconds jitter, const std::string& direction) = 0;
  virtual void blackhole(bool on) = 0;
  virtual void reset() = 0;
  virtual void close_all() = 0;
  virtual void kill() = 0;
  virtual void restart() = 0;
  virtual void clear() = 0;
  virtual nlohmann::json state() const = 0;
};

// A fault-injecting relay to 127.0.0.1:target_port.
std::unique_ptr<Relay> make_relay(std::uint16_t target_port);

// Throws ScenarioError naming the first timeline event this build (or topology) cannot carry out.
void check_supported(const Scenario& scenario, bool relays);

// vixy_config_reloads_total by its `result` label (applied, unchanged, rejected) in a /metrics
// text; empty when the proxy does not serve the counter.
std::map<std::string, double> config_reloads(std::string_view metrics);

// How long a reload may take to be applied after SIGHUP, and then for the proxy's WebSocket
// connections to the nodes it removed to close.
inline constexpr std::chrono::milliseconds kReloadBound{5000};

// A reorg the timeline applied to a node, as the node reported it.
struct AppliedReorg {
  std::string node;
  int at_ms = 0;  // the event's time in the timeline
  std::uint64_t from_height = 0;
  std::uint64_t fork_seed = 0;
};

class FaultDriver {
 public:
  FaultDriver(Cluster& cluster, std::map<std::string, std::unique_ptr<Relay>>& relays)
      : cluster_(cluster), relays_(relays) {}
  // Applies one event; "ok" or what went wrong (a failed admin call is reported, not thrown).
  std::string apply(const TimelineEvent& event);
  // Every reorg applied so far, in order (the chain's forks, for checking I7 against it).
  const std::vector<AppliedReorg>& reorgs() const { return reorgs_; }

 private:
  std::string reorg(const TimelineEvent& event);
  std::string reload(const TimelineEvent& event);
  std::string admin(const std::string& node, const std::string& path, const nlohmann::json& body);
  Relay* relay(const std::string& node);

  Cluster& cluster_;
  std::map<std::string, std::unique_ptr<Relay>>& relays_;
  std::vector<AppliedReorg> reorgs_;
};

// What I7 can be checked against after a run: the topology's chain and, when every reorg was
// network-wide (each took every EL node to the same fork), those forks in order. A reorg of some
// nodes only leaves the nodes on different chains: then no chain is given and I7 checks the
// streams' own consistency.
GaplessSpec gapless_spec(const Scenario& scenario, const std::vector<AppliedReorg>& reorgs);

}  // namespace vixy::chaos
