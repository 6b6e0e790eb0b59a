#pragma once
// What the health monitor knows after a round, as an immutable value. The monitor builds a new
// HealthSnapshot every round and publishes it atomically; request paths only ever read one.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace vixy::health {

enum class CheckOutcome {
  ok,       // the node answered with its height
  syncing,  // the node answered that it is syncing (a CL node's 206): definitely not usable
  failed,   // transport error, timeout, or an answer we could not read
};

struct CheckResult {
  CheckOutcome outcome = CheckOutcome::failed;
  std::uint64_t height = 0;  // block (EL) or slot (CL); meaningful when outcome == ok
  std::string detail;        // short reason for logs and /status, never a URL or a secret
};

struct NodeHealth {
  std::string name;
  config::Tier tier = config::Tier::primary;  // CL nodes are all primary
  std::optional<std::uint64_t> height;         // last height the node reported
  std::uint64_t lag = 0;                       // chain_head - height, 0 when height unknown
  std::uint32_t consecutive_failures = 0;
  bool checked = false;                        // at least one check has completed
  CheckOutcome last_outcome = CheckOutcome::failed;
  std::string last_detail = "not checked yet";
  bool healthy = false;
};

struct LayerHealth {
  std::vector<NodeHealth> nodes;  // in configuration order (EL: primaries, then backups)
  std::uint64_t chain_head = 0;   // highest height among the nodes' last known heights
  std::size_t healthy_count = 0;
};

struct Thresholds {
  std::uint64_t max_lag = 0;       // a node further behind the head than this is unhealthy
  std::uint32_t max_failures = 1;  // this many failed checks in a row make a node unhealthy
};

struct HealthSnapshot {
  LayerHealth el;
  LayerHealth cl;
  bool el_failover_active = false;  // no primary healthy, traffic goes to a backup
  std::uint64_t round = 0;          // 0 before the first round completed
};

using SnapshotPtr = std::shared_ptr<const HealthSnapshot>;

// The latest snapshot. The monitor publishes one per round; request paths read it without waiting
// and without knowing who publishes (they sit below the monitor).
class PublishedSnapshot {
 public:
  explicit PublishedSnapshot(SnapshotPtr initial) : current_(std::move(initial)) {}
  PublishedSnapshot(const PublishedSnapshot&) = delete;
  PublishedSnapshot& operator=(const PublishedSnapshot&) = delete;

  SnapshotPtr get() const { return current_.load(std::memory_order_acquire); }
  // Publishes `next`; the snapshot it replaces.
  SnapshotPtr exchange(SnapshotPtr next) { return current_.exchange(std::move(next), std::memory_order_acq_rel); }

 private:
  std::atomic<SnapshotPtr> current_;
};

// The initial, all-unhealthy view of every node, before any check.
SnapshotPtr initial_snapshot(const config::Config& config);
// The same for one layer.
LayerHealth initial_el(const std::vector<config::ElNode>& nodes);
LayerHealth initial_cl(const std::vector<config::ClNode>& nodes);

// The snapshot `snapshot`, made for the nodes of `from`, for the nodes of `to` (a reloaded
// configuration, or one before it): a node of `to` that `from` has too, with the same name, URLs
// and tier, keeps its health; any other is unchecked, so not routable, until a check says otherwise.
// The chain heads and the round stay: they are the chains', not the nodes'.
SnapshotPtr carry_over(const HealthSnapshot& snapshot, const config::Config& from, const config::Config& to);

// Pure: the layer after one round. `results[i]` belongs to `previous.nodes[i]`.
LayerHealth next_layer(const LayerHealth& previous, const std::vector<CheckResult>& results,
                       const Thresholds& thresholds);

// True when no EL primary is healthy but a backup is: traffic is served by the backup tier.
bool failover_active(const LayerHealth& el);

const char* to_string(CheckOutcome outcome);

}  // namespace vixy::health
