#include "http/event_stream.hpp"

#include <algorithm>
#include <map>

#include "log/log.hpp"
#include "routing/select.hpp"

namespace vixy::http {

EventStreams::EventStreams(const config::Config& config, observability::ProxyMetrics& metrics,
                           const health::SnapshotPtr& initial)
    : metrics_(metrics) {
  for (const auto& node : config.cl) names_.push_back(node.name);
  if (initial) candidates_ = routing::cl_candidates(initial->cl);
}

bool EventStreams::routable(std::size_t node) const {
  return std::find(candidates_.begin(), candidates_.end(), node) != candidates_.end();
}

void EventStreams::on_snapshot(const health::SnapshotPtr& next) {
  auto candidates = routing::cl_candidates(next->cl);
  if (candidates == candidates_) return;
  candidates_ = std::move(candidates);
  std::map<std::size_t, std::vector<Watch*>> leaving;  // by node, in node order for the log
  for (Watch* watch : watches_) {
    if (!watch->ended_ && !routable(watch->node_)) leaving[watch->node_].push_back(watch);
  }
  for (const auto& [node, watches] : leaving) end(node, watches);
}

void EventStreams::shutdown() {
  stopping_ = true;
  std::vector<Watch*> open;
  for (Watch* watch : watches_) {
    if (!watch->ended_) open.push_back(watch);
  }
  if (!open.empty()) log::info("cl event streams ended: vixy is shutting down", {{"streams", open.size()}});
  // As in end(): `end_` only starts the ending, so no watch leaves the set while this loops.
  for (Watch* watch : open) {
    watch->ended_ = true;
    if (watch->end_) watch->end_();
  }
}

void EventStreams::end(std::size_t node, const std::vector<Watch*>& watches) {
  const std::string name = node < names_.size() ? names_[node] : std::to_string(node);
  metrics_.cl_streams_moved_total.with({name}).inc(watches.size());
  log::warn("cl event streams ended: node no longer routable, listeners reconnect to a healthy node",
            {{"node", name}, {"streams", watches.size()}, {"healthy_cl", candidates_.size()}});
  // `end` only starts the ending (it cancels I/O whose handlers run later), so no watch can leave
  // the set while this loops.
  for (Watch* watch : watches) {
    watch->ended_ = true;
    if (watch->end_) watch->end_();
  }
}

EventStreams::Watch::Watch(EventStreams& streams, std::size_t node, std::function<void()> end)
    : streams_(streams), node_(node), end_(std::move(end)) {
  streams_.watches_.insert(this);
  if (streams_.stopping_) {
    ended_ = true;
    if (end_) end_();
  } else if (!streams_.routable(node_)) {
    streams_.end(node_, {this});
  }
}

EventStreams::Watch::~Watch() { streams_.watches_.erase(this); }

}  // namespace vixy::http
