#include "ws/settings.hpp"

#include <algorithm>

namespace vixy::ws {

SessionSettings session_settings(const config::Config& config) {
  const auto& ws = config.websocket;
  SessionSettings settings;
  settings.max_pending_requests = ws.max_pending_requests;
  settings.max_pending_bytes = ws.max_pending_bytes;
  settings.max_subscriptions = ws.max_subscriptions;
  settings.max_json_depth = config.global.max_json_depth;
  settings.max_batch_size = config.global.max_batch_size;
  routing::MethodPolicy methods(config.methods);
  if (!methods.allows_everything()) settings.methods = std::make_shared<const routing::MethodPolicy>(std::move(methods));
  settings.backfill_depth = ws.backfill_blocks;
  settings.request_timeout = std::chrono::milliseconds(config.global.proxy_timeout_ms);
  // A node the monitor keeps reporting healthy is retried at least once per health interval, so
  // failback is never held back longer than I6 allows by a backoff grown while it was down.
  const auto interval = std::chrono::milliseconds(config.global.health_check_interval_ms);
  settings.reconnect_backoff_max = std::min(std::chrono::milliseconds(ws.reconnect_backoff_max_ms), interval);
  settings.reconnect_backoff =
      std::min(std::chrono::milliseconds(ws.reconnect_backoff_ms), settings.reconnect_backoff_max);
  return settings;
}

mux::Settings mux_settings(const config::Config& config) {
  mux::Settings settings;
  settings.max_sockets = config.websocket.upstream_connections;
  // Twice the request timeout: no session still waits for what the multiplexer then forgets.
  settings.forget_after = 2 * std::chrono::milliseconds(config.global.proxy_timeout_ms);
  return settings;
}

}  // namespace vixy::ws
