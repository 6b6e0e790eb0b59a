// The connection-facing half of the session core: which upstream a session uses, failover on
// loss, failback when health says a better tier is back, backoff, and time (timeouts, deadlines).
#include <algorithm>

#include "ws/session_core.hpp"

namespace vixy::ws {

// ---------------------------------------------------------------------------------------------
// Connections

void SessionCore::start(const std::vector<std::size_t>& candidates, TimePoint now) {
  started_ = true;
  now_ = now;
  candidates_ = candidates;
  connect_best(now);
}

void SessionCore::open_link(std::size_t node, bool planned) {
  ConnectionId connection = next_connection_++;
  links_[connection] = Link{node, LinkState::connecting, {}, {}};
  (planned ? planned_ : active_) = connection;
  actions_.push_back(Connect{connection, node});
}

void SessionCore::connect_best(TimePoint now) {
  switch_checked_ = now;
  if (auto node = pick_node(now, std::nullopt)) open_link(*node, false);
}

void SessionCore::upstream_connected(ConnectionId connection, TimePoint now) {
  now_ = now;
  auto link = links_.find(connection);
  if (link == links_.end() || link->second.state != LinkState::connecting) return;
  link->second.state = LinkState::open;
  ++counters_.connect_attempts_ok;
  retry_[link->second.node] = NodeRetry{};
  if (connection == planned_) {
    // Make before break: the new upstream takes the traffic now; the old one stays until its
    // answers are in and every subscription is re-established on the new one.
    auto old = links_.find(active_);
    if (old != links_.end() && rank(link->second.node) < rank(old->second.node)) ++counters_.failbacks;
    active_ = connection;
    planned_ = 0;
  } else if (connection != active_) {
    return;
  }
  if (had_open_upstream_) ++counters_.reconnections;
  had_open_upstream_ = true;
  replay_subscriptions(connection, now);
  flush_queue();
  release_drained();
  // A better node may have become healthy, or its backoff run out, while this link was
  // connecting (consider_switch waits for an open upstream); the monitor may never report a
  // change for it (a node restarted faster than it noticed), so look now (I6).
  consider_switch(now);
}

void SessionCore::upstream_lost(ConnectionId connection, TimePoint now) {
  now_ = now;
  if (!links_.contains(connection)) return;
  lose(connection, now);
  if (active_ == 0) {
    if (planned_ != 0) {
      active_ = planned_;
      planned_ = 0;
    } else {
      connect_best(now);
    }
  } else {
    // The failback target (or an old upstream) failed: another better node may be healthy, and
    // waiting for the failed one's backoff would retry only it, in candidate order, forever (I6).
    consider_switch(now);
  }
  flush_queue();
}

void SessionCore::lose(ConnectionId connection, TimePoint now) {
  Link& link = links_.at(connection);
  if (link.state == LinkState::connecting) ++counters_.connect_attempts_failed;
  NodeRetry& retry = retry_[link.node];
  ++retry.failures;
  std::chrono::milliseconds backoff = settings_.reconnect_backoff * (1LL << std::min<std::uint32_t>(retry.failures - 1, 16));
  backoff = std::min(backoff, settings_.reconnect_backoff_max);
  // Up to a quarter more, different per session: a thousand sessions that lost the same node
  // must not all knock on it in the same millisecond.
  backoff += backoff * static_cast<std::int64_t>(mix(salt_ + retry.failures) % 256) / 1024;
  retry.not_before = now + backoff;
  // A working upstream that dropped and is the only healthy node is tried again at once: waiting
  // would only hold the client's traffic, and a failed attempt from there on backs off as usual.
  if (link.state == LinkState::open && candidates_ == std::vector<std::size_t>{link.node}) retry.not_before = now;

  for (auto& [key, sub] : subscriptions_) {
    if (sub.connection == connection) {
      sub.connection = 0;
      sub.upstream_id.clear();
    }
  }
  std::vector<std::uint64_t> requeue;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> lost_fetches;  // (subscription, tag)
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (p.connection != connection) {
      ++it;
      continue;
    }
    bool from_client = p.purpose == Purpose::client_request || p.purpose == Purpose::client_subscribe ||
                       p.purpose == Purpose::client_notice;
    if (from_client && p.repeatable) {
      p.connection = 0;
      requeue.push_back(it->first);
      ++counters_.requests_resent;
      ++it;
      continue;
    }
    if (p.purpose == Purpose::client_notice) {
      release_client_slot(p);  // not safe to repeat, and there is no answer to carry an error
    } else if (from_client) {
      release_client_slot(p);
      ++counters_.requests_outcome_unknown;
      answer_error(p, kProxyError,
                   "vixy: the upstream connection was lost before " + p.method +
                       " was answered; its outcome is unknown");
    } else if (p.purpose == Purpose::replay) {
      auto sub = subscriptions_.find(p.subscription);
      if (sub != subscriptions_.end()) sub->second.replay_in_flight = false;
    } else if (p.purpose == Purpose::backfill) {
      lost_fetches.emplace_back(p.subscription, p.tag);
    }
    it = pending_.erase(it);
  }
  // Keys grow in client order, so re-sent requests go out before anything the client sent later.
  queue_.insert(queue_.end(), requeue.begin(), requeue.end());
  std::sort(queue_.begin(), queue_.end());

  links_.erase(connection);
  if (connection == active_) active_ = 0;
  if (connection == planned_) planned_ = 0;
  abandon_fetches(lost_fetches, true);
  // Subscriptions that lived on the lost link go wherever traffic goes now.
  replay_subscriptions(active_, now);
}

void SessionCore::add_nodes(const std::vector<NodeInfo>& added) {
  nodes_.insert(nodes_.end(), added.begin(), added.end());
  retry_.resize(nodes_.size());
}

void SessionCore::health_changed(const std::vector<std::size_t>& candidates, TimePoint now) {
  now_ = now;
  if (!started_) {  // the client's handshake is still under way: start() connects
    candidates_ = candidates;
    return;
  }
  for (std::size_t node : candidates) {
    // A node the monitor newly reports healthy has recovered: forget its connect failures, so
    // failback is not held back by a backoff from when it was down (I6).
    if (node < retry_.size() && std::find(candidates_.begin(), candidates_.end(), node) == candidates_.end()) {
      retry_[node] = NodeRetry{};
    }
  }
  bool recovered = false;
  if (auto link = links_.find(active_); link != links_.end() && link->second.state == LinkState::open) {
    auto healthy = [&](const std::vector<std::size_t>& nodes) {
      return std::find(nodes.begin(), nodes.end(), link->second.node) != nodes.end();
    };
    recovered = !healthy(candidates_) && healthy(candidates);
  }
  candidates_ = candidates;
  if (recovered) recheck_subscriptions();
  consider_switch(now);
}

// The upstream the session stayed on (there was nowhere better) failed its health checks and is
// back: a node, or the path to it, that went quiet without closing may have dropped notifications
// meanwhile. Each subscription established there checks what it missed, as after a move (a log's
// absence shows nothing; a head's gap shows by its parent, but the check costs a newHeads stream
// nothing).
void SessionCore::recheck_subscriptions() {
  for (auto& [key, sub] : subscriptions_) {
    if (!sub.stream || sub.connection != active_ || sub.replay_in_flight) continue;
    gapless::Effects effects;
    sub.stream->established(true, effects);
    apply(key, std::move(effects));
  }
}

void SessionCore::consider_switch(TimePoint now) {
  switch_checked_ = now;
  if (active_ == 0) {
    connect_best(now);
    return;
  }
  if (planned_ != 0) return;
  const Link& current = links_.at(active_);
  if (current.state != LinkState::open) return;
  bool current_healthy = std::find(candidates_.begin(), candidates_.end(), current.node) != candidates_.end();
  // A healthy upstream is left only for a better tier; an unhealthy one for any healthy node.
  auto target = pick_node(now, current_healthy ? std::optional<std::size_t>(current.node) : std::nullopt);
  if (target && *target != current.node) open_link(*target, true);
}

void SessionCore::tick(TimePoint now) {
  now_ = now;
  // Keys grow with creation time and every deadline is creation + request_timeout, so the expired
  // entries come first. A replay never expires: it is not the client's request, and giving up on
  // it while its upstream is alive meant sending it again, after which whichever answer came
  // first was dropped as stray and the node's notifications on it were lost to the client. A
  // silent upstream is detected (and lost) by the adapter's keep-alive instead.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> expired_fetches;  // (subscription, tag)
  for (auto it = pending_.begin(); it != pending_.end() && it->second.deadline <= now;) {
    if (it->second.purpose == Purpose::replay) {
      ++it;
      continue;
    }
    Pending p = std::move(it->second);
    std::uint64_t key = it->first;
    it = pending_.erase(it);
    auto queued = std::find(queue_.begin(), queue_.end(), key);
    if (queued != queue_.end()) queue_.erase(queued);
    if (p.purpose == Purpose::client_notice) {
      release_client_slot(p);
    } else if (p.purpose == Purpose::client_request || p.purpose == Purpose::client_subscribe) {
      release_client_slot(p);
      ++counters_.requests_timed_out;
      answer_error(p, kProxyError,
                   "vixy: request timed out after " + std::to_string(settings_.request_timeout.count()) + " ms");
    } else if (p.purpose == Purpose::backfill) {
      expired_fetches.emplace_back(p.subscription, p.tag);
    }
  }
  abandon_fetches(expired_fetches, false);
  consider_switch(now);
  replay_subscriptions(active_, now);
  release_drained();
}

bool SessionCore::in_flight_on(ConnectionId connection) const {
  return std::any_of(pending_.begin(), pending_.end(), [&](const auto& entry) {
    return entry.second.connection == connection && entry.second.purpose != Purpose::internal;
  });
}

void SessionCore::release_drained() {
  for (auto it = links_.begin(); it != links_.end();) {
    ConnectionId connection = it->first;
    bool old = connection != active_ && connection != planned_;
    if (!old || !it->second.subscriptions.empty() || in_flight_on(connection)) {
      ++it;
      continue;
    }
    for (auto p = pending_.begin(); p != pending_.end();) {
      p = p->second.connection == connection ? pending_.erase(p) : std::next(p);
    }
    actions_.push_back(Disconnect{connection});
    it = links_.erase(it);
  }
}

std::size_t SessionCore::rank(std::size_t node) const { return nodes_[node].tier == config::Tier::primary ? 0 : 1; }

std::optional<std::size_t> SessionCore::pick_node(TimePoint now, std::optional<std::size_t> better_than) const {
  for (std::size_t node : candidates_) {
    if (node >= nodes_.size() || retry_[node].not_before > now) continue;
    if (better_than && rank(node) >= rank(*better_than)) continue;
    return node;
  }
  return std::nullopt;
}

std::optional<TimePoint> SessionCore::next_deadline() const {
  std::optional<TimePoint> earliest;
  auto consider = [&](TimePoint t) {
    if (!earliest || t < *earliest) earliest = t;
  };
  auto expiring = std::find_if(pending_.begin(), pending_.end(),
                               [](const auto& entry) { return entry.second.purpose != Purpose::replay; });
  if (expiring != pending_.end()) consider(expiring->second.deadline);
  // A retry is due when a node we would use is only held back by its backoff.
  auto current = links_.find(active_);
  bool waiting_for_any = active_ == 0;
  for (std::size_t node : candidates_) {
    // Due until a switch decision has looked at it: other events may move time past a backoff's
    // end without anyone considering the node again.
    if (node >= nodes_.size() || retry_[node].not_before <= switch_checked_) continue;
    bool better = planned_ == 0 && current != links_.end() && rank(node) < rank(current->second.node);
    if (waiting_for_any || better) consider(retry_[node].not_before);
  }
  return earliest;
}

}  // namespace vixy::ws
