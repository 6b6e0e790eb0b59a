// The simulation's run: the world, the drawn faults, the checker, and the command line.
#include "chaos/sim.hpp"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "chaos/sim_world.hpp"
#include "ws/settings.hpp"

namespace vixy::chaos::sim {
namespace {

constexpr const char* kNames[] = {"p0", "p1", "b0"};

std::string seconds(Ms ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(ms.count()) / 1000);
  return text;
}

std::uint64_t fnv1a(std::uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

}  // namespace

World::World(const Options& options)
    : options_(options),
      session_settings_(ws::session_settings(config_)),
      rng_(options.seed),
      origin_(SteadyTime{} + std::chrono::hours(24)),
      scheduler_(origin_) {
  for (std::size_t i = 0; i < 3; ++i) {
    Node node{.name = kNames[i],
              .tier = i < 2 ? config::Tier::primary : config::Tier::backup,
              .chain = fakenodes::Chain({options.seed, kBlockTimeMs, 1}),
              .conns = {}};
    node.announced = head(node);
    nodes_.push_back(std::move(node));
    sides_.push_back(std::make_unique<NodeSide>(ws::mux_settings(config_)));
    health::NodeHealth health;
    health.name = kNames[i];
    health.tier = nodes_.back().tier;
    el_.nodes.push_back(std::move(health));
  }
  clients_.resize(static_cast<std::size_t>(options.clients));
  for (int i = 0; i < options.clients; ++i) clients_[static_cast<std::size_t>(i)].index = i;
  end_ = origin_ + options.duration;
  requests_end_ = end_ - Ms(10'000);
}

void World::fault(std::size_t node, Node::Fault kind, Time at, Ms length, std::function<void()> on,
                  std::function<void()> off) {
  scheduler_.at(at, [this, node, kind, end = at + length, on = std::move(on)] {
    nodes_[node].until[kind] = std::max(nodes_[node].until[kind], end);
    on();
  });
  scheduler_.at(at + length, [this, node, kind, off = std::move(off)] {
    if (scheduler_.now() >= nodes_[node].until[kind]) off();
  });
}

// Faults from 8 s on, one every 2-12 s (they overlap), the last starting 45 s before the end (none
// lasts over 20 s): the primaries' recovery, the failback (I6) and the last fills all happen while
// clients still send.
void World::draw_faults() {
  Time t = origin_ + Ms(8'000);
  const Time last_start = end_ - Ms(45'000);
  Time primaries_clear = origin_;
  auto log = [&](Time at, const std::string& what) {
    timeline_.push_back(seconds(std::chrono::duration_cast<Ms>(at - origin_)) + " " + what);
  };
  auto kill_for = [this](std::size_t node, Time at, Ms length) {
    fault(node, Node::kill, at, length, [this, node] { kill(node); }, [this, node] { nodes_[node].down = false; });
  };
  while (t < last_start) {
    const std::size_t node = rng_.below(3);
    const std::string name = kNames[node];
    Ms length{0};
    switch (rng_.below(8)) {
      case 0:  // killed, then restarted
      case 5:  // a flap: killed for a moment
        length = rng_.one_in(2) ? rng_.between(Ms(1'000), Ms(12'000)) : rng_.between(Ms(100), Ms(600));
        log(t, "kill " + name + " for " + seconds(length));
        kill_for(node, t, length);
        break;
      case 1:  // silent: reads, answers nothing; its connections end when it talks again
        length = rng_.between(Ms(2'000), Ms(15'000));
        log(t, "silence " + name + " for " + seconds(length));
        fault(node, Node::silence, t, length, [this, node] { nodes_[node].silent = true; }, [this, node] {
          nodes_[node].silent = false;
          std::vector<ws::mux::SocketId> sockets;
          for (const auto& [socket, conn] : nodes_[node].conns) sockets.push_back(socket);
          for (auto socket : sockets) socket_lost(node, socket);
        });
        break;
      case 2: {  // behind the chain (more than max_el_lag_blocks makes it unhealthy)
        const std::uint64_t blocks = 1 + rng_.below(12);
        length = rng_.between(Ms(3'000), Ms(15'000));
        log(t, "lag " + name + " " + std::to_string(blocks) + " blocks for " + seconds(length));
        fault(node, Node::lag_fault, t, length, [this, node, blocks] { nodes_[node].lag = blocks; },
              [this, node] { nodes_[node].lag = 0; });
        break;
      }
      case 3: {  // a network-wide reorg
        const std::uint64_t depth = 1 + rng_.below(3), fork_seed = rng_.next();
        log(t, "reorg " + std::to_string(depth) + " blocks deep");
        scheduler_.at(t, [this, depth, fork_seed] { reorg(depth, fork_seed); });
        break;
      }
      case 4: {  // a slow network to one node
        const Ms spike = rng_.between(Ms(50), Ms(800));
        length = rng_.between(Ms(2'000), Ms(10'000));
        log(t, "delay " + name + " +" + seconds(spike) + " for " + seconds(length));
        fault(node, Node::spike_fault, t, length, [this, node, spike] { nodes_[node].spike = spike; },
              [this, node] { nodes_[node].spike = Ms(0); });
        break;
      }
      case 6: {  // slow answers: requests are in flight when the next fault comes
        const Ms slow = rng_.between(Ms(100), Ms(3'000));
        length = rng_.between(Ms(3'000), Ms(20'000));
        log(t, "slow " + name + " answers up to " + seconds(slow) + " for " + seconds(length));
        fault(node, Node::slow_fault, t, length, [this, node, slow] { nodes_[node].slow = slow; },
              [this, node] { nodes_[node].slow = Ms(0); });
        break;
      }
      case 7:  // every node killed at once, briefly
        length = rng_.between(Ms(200), Ms(4'000));
        log(t, "kill every node for " + seconds(length));
        for (std::size_t n = 0; n < nodes_.size(); ++n) kill_for(n, t, length);
        primaries_clear = std::max(primaries_clear, t + length);
        break;
    }
    if (node < 2 && length.count() > 0) primaries_clear = std::max(primaries_clear, t + length);
    t += rng_.between(Ms(2'000), Ms(12'000));
  }
  if (primaries_clear > origin_) primaries_healthy_since_ = primaries_clear;
}

Result World::run() {
  draw_faults();
  scheduler_.at(origin_, [this] { health_round(); });
  scheduler_.at(origin_, [this] { block_clock(0); });
  for (int i = 0; i < options_.clients; ++i) {
    scheduler_.at(origin_ + rng_.between(Ms(1'500), Ms(3'000)), [this, i] { client_connect(i); });
  }
  scheduler_.at(requests_end_, [this] {
    for (auto& client : clients_) client.stopped = true;
  });
  scheduler_.at(end_, [this] {
    for (int i = 0; i < options_.clients; ++i) client_close(i);
  });
  scheduler_.run_until(end_ + Ms(1'000));

  Result result;
  FailbackSpec failback;
  failback.primaries = {kNames[0], kNames[1]};
  failback.healthy_since = primaries_healthy_since_;
  if (!failback.healthy_since) failback.not_checkable_reason = "no primary fault in this run";
  GaplessSpec gapless;
  gapless.bound = session_settings_.backfill_depth;
  gapless.chain_seed = options_.seed;
  gapless.forks = forks_;
  result.check = check_histories(histories_, origin_, failback, {"I1", "I2", "I3", "I6", "I7"}, gapless);
  std::uint64_t digest = 0xcbf29ce484222325ULL;
  for (const auto& history : histories_) {
    digest = fnv1a(digest, history.label());
    for (const auto& event : history.events) {
      const auto at = std::chrono::duration_cast<std::chrono::microseconds>(event.at - origin_).count();
      digest = fnv1a(digest, std::to_string(static_cast<int>(event.kind)) + "@" + std::to_string(at) + ":");
      digest = fnv1a(digest, event.text);
    }
  }
  result.digest = digest;
  result.timeline = timeline_;
  result.messages = messages_;
  result.simulated_ms = static_cast<std::uint64_t>(options_.duration.count());
  result.histories = std::move(histories_);
  result.origin = origin_;
  return result;
}

Result simulate(const Options& options) {
  if (options.duration < Ms(60'000)) throw std::invalid_argument("a simulated run lasts at least a minute");
  if (options.clients < 1) throw std::invalid_argument("a simulated run needs a client");
  if (!options.bug.empty() && options.bug != "drop-answer" && options.bug != "repeat-head") {
    throw std::invalid_argument("unknown bug \"" + options.bug + "\" (drop-answer, repeat-head)");
  }
  return World(options).run();
}

}  // namespace vixy::chaos::sim
