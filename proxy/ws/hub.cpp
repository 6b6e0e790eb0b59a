#include "ws/hub.hpp"

#include <random>

#include <boost/beast/websocket/rfc6455.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "routing/select.hpp"
#include "ws/node_mux.hpp"
#include "ws/session.hpp"
#include "ws/settings.hpp"

namespace vixy::ws {
namespace {

std::uint64_t random_salt() {
  // One per thread: every thread's hub draws salts.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

}  // namespace

Hub::Hub(boost::asio::any_io_executor executor, const config::Config& config, boost::asio::ssl::context& tls,
         observability::ProxyMetrics& metrics, health::SnapshotPtr initial, ProcessTotals& totals,
         routing::RateLimiter* limiter)
    : executor_(std::move(executor)),
      tls_(tls),
      metrics_(metrics),
      session_metrics_(metrics),
      max_client_message_size_(config.websocket.max_message_size),
      totals_(totals),
      limiter_(limiter),
      limits_(config.limits) {
  mux_settings_ = mux_settings(config);
  add_nodes(config.el);
  const auto& ws = config.websocket;
  settings_ = session_settings(config);
  strategy_ = routing::strategy_named(config.routing.strategy).value_or(routing::Strategy::priority);
  socket_options_.connect_timeout = std::chrono::milliseconds(config.global.connect_timeout_ms);
  socket_options_.idle_timeout = std::chrono::milliseconds(ws.ping_interval_ms + ws.pong_timeout_ms);
  socket_options_.max_message_size = ws.max_upstream_message_size;
  backlog_limits_.per_client = ws.max_client_backlog_bytes;
  backlog_limits_.process = config.server.max_buffered_bytes;
  if (initial) candidates_ = routing::el_candidates(initial->el);
}

void Hub::add_nodes(const std::vector<config::ElNode>& added) {
  std::vector<NodeInfo> infos;
  for (const auto& node : added) {
    auto url = net::parse_upstream_url(node.ws_url);
    // The config loader has validated every URL; this only fails on a loader bug.
    if (!url) throw std::invalid_argument("el node " + node.name + ": ws_url: " + url.problem());
    infos.push_back(NodeInfo{node.name, node.tier});
    nodes_.push_back(infos.back());
    tiers_.push_back(node.tier);
    urls_.push_back(std::move(*url));
    muxes_.push_back(std::make_unique<NodeMux>(*this, muxes_.size(), mux_settings_));
  }
  for (Session* session : sessions_) session->nodes_added(infos);
}

Hub::~Hub() = default;

namespace {
boost::asio::awaitable<void> refuse_upgrade(net::HttpConnection& connection, net::Response response) {
  co_await connection.respond(std::move(response));
}
}  // namespace

// Not a coroutine, for the same reason as server::route: the session's coroutine is all that
// stays while the client does, not a frame holding the refusals' responses too.
boost::asio::awaitable<void> Hub::serve(net::HttpConnection& connection, net::Request& request) {
  if (!boost::beast::websocket::is_upgrade(request)) {
    auto response = net::make_jsonrpc_error_response(request, net::http::status::upgrade_required,
                                                        jsonrpc::kInvalidRequest,
                                                        "GET /el/ws expects a WebSocket upgrade; use POST /el for HTTP");
    response.set(net::http::field::upgrade, "websocket");
    return refuse_upgrade(connection, std::move(response));
  }
  if (stopping_) {
    return refuse_upgrade(connection, net::make_jsonrpc_error_response(request, net::http::status::service_unavailable,
                                                               jsonrpc::kServerError, "vixy is shutting down"));
  }
  return run_session(connection, request);
}

// Not a coroutine either: the session's own coroutine owns it (a frame here held 1.2 KiB per session).
boost::asio::awaitable<void> Hub::run_session(net::HttpConnection& connection, net::Request& request) {
  connection.take_over();
  auto session = std::make_unique<Session>(*this, connection, random_salt());
  Session& running = *session;
  return running.run(std::move(session), request);
}

void Hub::on_snapshot(const health::SnapshotPtr& next) {
  // The round's heads are newer than those seen on subscriptions before it.
  if (router_ != nullptr) router_->round_changed();
  auto candidates = routing::el_candidates(next->el);
  if (candidates == candidates_) return;
  candidates_ = std::move(candidates);
  std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (Session* session : sessions) {
    if (sessions_.contains(session)) session->health_changed(candidates_);
  }
}

void Hub::shutdown() {
  stopping_ = true;
  for (Session* session : sessions_) session->close_client(1001, "vixy is shutting down");
}

void Hub::buffered(std::size_t added, std::size_t written) {
  totals_.buffered(added, written);
  metrics_.ws_buffered_bytes.add(static_cast<double>(added) - static_cast<double>(written));
}

}  // namespace vixy::ws
