#include "http/upstreams.hpp"

#include <stdexcept>

namespace vixy::http {
namespace {

net::UpstreamUrl must_parse(const std::string& url, const std::string& node) {
  auto parsed = net::parse_upstream_url(url);
  if (!parsed) throw std::invalid_argument("node " + node + ": " + parsed.problem());
  return std::move(*parsed);
}

}  // namespace

Upstreams make_upstreams(asio::any_io_executor executor, asio::ssl::context& tls, const config::Config& config) {
  Upstreams upstreams;
  auto connect_timeout = std::chrono::milliseconds(config.global.connect_timeout_ms);
  auto health_timeout = std::chrono::milliseconds(config.global.health_check_timeout_ms);
  for (const auto& node : config.el) {
    auto url = must_parse(node.http_url, node.name);
    upstreams.el.emplace_back(NodePools{UpstreamPool(executor, tls, url, connect_timeout),
                                        UpstreamPool(executor, tls, url, health_timeout, 2)});
  }
  for (const auto& node : config.cl) {
    auto url = must_parse(node.url, node.name);
    upstreams.cl.emplace_back(NodePools{UpstreamPool(executor, tls, url, connect_timeout),
                                        UpstreamPool(executor, tls, url, health_timeout, 2)});
  }
  return upstreams;
}

}  // namespace vixy::http
