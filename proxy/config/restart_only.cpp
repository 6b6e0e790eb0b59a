#include "config/restart_only.hpp"

namespace vixy::config {
namespace {

template <class Value>
void keep(Value& next, const Value& running, const char* key, std::vector<std::string>& changed) {
  if (next == running) return;
  changed.emplace_back(key);
  next = running;
}

}  // namespace

std::vector<std::string> keep_restart_only(Config& next, const Config& running) {
  std::vector<std::string> changed;
  keep(next.server.listen, running.server.listen, "server.listen", changed);
  keep(next.server.threads, running.server.threads, "server.threads", changed);
  keep(next.server.max_connections, running.server.max_connections, "server.max_connections", changed);
  keep(next.server.max_connections_per_ip, running.server.max_connections_per_ip, "server.max_connections_per_ip",
       changed);
  keep(next.server.client_write_timeout_ms, running.server.client_write_timeout_ms, "server.client_write_timeout_ms",
       changed);
  keep(next.global.max_body_size, running.global.max_body_size, "global.max_body_size", changed);
  keep(next.metrics.enabled, running.metrics.enabled, "metrics.enabled", changed);
  keep(next.metrics.port, running.metrics.port, "metrics.port", changed);
  keep(next.metrics.host, running.metrics.host, "metrics.host", changed);
  return changed;
}

}  // namespace vixy::config
