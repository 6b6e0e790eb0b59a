#include "fakenodes/node.hpp"

#include "net/stable_port.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "fakenodes/admin.hpp"
#include "fakenodes/tls_front.hpp"
#include "log/log.hpp"
#include "net/awaitable.hpp"

namespace vixy::fakenodes {
namespace {
// A node far behind the clock (resumed after a long pause) catches up this many heights per tick,
// yielding in between so that its connections keep being served.
constexpr std::uint64_t kMaxHeadsPerTick = 1000;

const char* interim_reason(unsigned status) {
  switch (status) {
    case 100: return "Continue";
    case 102: return "Processing";
    case 103: return "Early Hints";
    default: return "Informational";
  }
}
}  // namespace

json MethodOverride::to_json() const {
  json out{{"delay_ms", delay.count()}};
  if (error_code) out["error"] = json{{"code", *error_code}, {"message", error_message}};
  if (http_status) out["error"] = json{{"status", *http_status}};
  return out;
}

FakeNode::FakeNode(asio::any_io_executor executor, NodeOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      chain_(options_.chain),
      clock_timer_(executor_),
      change_signal_(executor_, asio::steady_timer::time_point::max()) {}

FakeNode::~FakeNode() = default;

std::string FakeNode::version_string() const {
  return std::string("vixy-fakenode/") + VIXY_VERSION + "/" + options_.name;
}

void FakeNode::listening_log(const char* what, const tcp::endpoint& endpoint) const {
  log::info("listening", {{"what", what}, {"addr", format_endpoint(endpoint)}});
}

beast::error_code FakeNode::start() {
  // The servers' handlers take a strong reference per request, not per server, so that the node
  // and its servers do not keep each other alive.
  auto* self = this;
  rpc_server_ = std::make_shared<HttpServer>(
      executor_, [self](HttpConnection& c, Request& r) { return serve_rpc(self->shared_from_this(), c, r); });
  admin_server_ = std::make_shared<HttpServer>(executor_, [self](HttpConnection& c, Request& r) {
    return serve_admin(self->shared_from_this(), c, r);
  });

  // The RPC port is re-opened by /restart, so it must not be one the kernel may hand out meanwhile.
  auto listen_rpc = [&](std::uint16_t port) {
    return rpc_server_->listen(tcp::endpoint(options_.listen.address(), port));
  };
  auto rpc_ec = options_.listen.port() == 0 ? net::bind_stable_port(listen_rpc) : listen_rpc(options_.listen.port());
  if (rpc_ec) return rpc_ec;
  rpc_bound_ = rpc_server_->local_endpoint();
  if (auto ec = admin_server_->listen(options_.admin)) return ec;
  if (options_.tls) {
    tls_front_ = std::make_shared<TlsFront>(executor_, options_.tls->cert_file, options_.tls->key_file);
    tls_front_->set_target(rpc_bound_);
    if (auto ec = tls_front_->listen(options_.tls->listen)) return ec;
    tls_bound_ = tls_front_->local_endpoint();
  }

  rpc_server_->start();
  admin_server_->start();
  if (tls_front_) tls_front_->start();
  listening_log("rpc", rpc_bound_);
  listening_log("admin", admin_server_->local_endpoint());
  if (tls_bound_) listening_log("tls", *tls_bound_);

  announced_ = head();
  asio::co_spawn(executor_, block_clock(shared_from_this()), log::report_exception("block clock"));
  return {};
}

asio::awaitable<void> FakeNode::serve_rpc(std::shared_ptr<FakeNode> self, HttpConnection& connection,
                                          Request& request) {
  bool sent = co_await self->send_interim(connection, request);
  if (!sent) co_return;
  co_await self->handle(connection, request);
}

asio::awaitable<bool> FakeNode::send_interim(HttpConnection& connection, const Request& request) {
  // A silent node answers nothing at all; an upgrade's answer is 101, which 1xx would replace.
  if (!interim_ || silent_ || beast::websocket::is_upgrade(request)) co_return true;
  std::string text = "HTTP/1.1 " + std::to_string(*interim_) + " " + interim_reason(*interim_) + "\r\n";
  if (*interim_ == 103) text += "Link: </vixy-test/preload.css>; rel=preload; as=style\r\n";
  text += "\r\n";
  auto [ec, n] = co_await asio::async_write(connection.stream(), asio::buffer(text), use_tuple);
  (void)n;
  co_return !ec;
}

void FakeNode::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (rpc_server_) {
    rpc_server_->stop_accepting();
    rpc_server_->close_connections();
  }
  if (admin_server_) {
    admin_server_->stop_accepting();
    admin_server_->close_connections();
  }
  if (tls_front_) {
    tls_front_->stop_accepting();
    tls_front_->close_connections();
  }
  clock_timer_.cancel();
  on_stop();
  notify_change();
}

tcp::endpoint FakeNode::rpc_endpoint() const { return rpc_bound_; }
tcp::endpoint FakeNode::admin_endpoint() const {
  return admin_server_ ? admin_server_->local_endpoint() : tcp::endpoint{};
}
std::optional<tcp::endpoint> FakeNode::tls_endpoint() const { return tls_bound_; }

std::uint64_t FakeNode::chain_height() const { return chain_.height_at(now_ms()); }

std::uint64_t FakeNode::head() const {
  std::uint64_t height = chain_height();
  if (paused_at_) height = std::min(height, *paused_at_);
  return height > lag_ ? height - lag_ : 0;
}

void FakeNode::set_lag(std::uint64_t blocks) {
  lag_ = blocks;
  notify_change();
}

void FakeNode::pause() {
  if (!paused_at_) paused_at_ = chain_height();
  notify_change();
}

void FakeNode::resume() {
  paused_at_.reset();
  notify_change();
}

void FakeNode::set_syncing(bool syncing) { syncing_ = syncing; }
void FakeNode::set_healthy(bool healthy) { healthy_ = healthy; }

void FakeNode::set_silent(bool silent) {
  silent_ = silent;
  notify_change();
}

void FakeNode::set_override(const std::string& method, MethodOverride override) {
  overrides_[method] = std::move(override);
}

void FakeNode::clear_overrides(const std::optional<std::string>& method) {
  if (method) {
    overrides_.erase(*method);
  } else {
    overrides_.clear();
  }
}

const MethodOverride* FakeNode::find_override(std::string_view method) const {
  auto it = overrides_.find(method);
  return it == overrides_.end() ? nullptr : &it->second;
}

std::string FakeNode::reorg(std::uint64_t from_height, std::uint64_t fork_seed) {
  std::uint64_t now_head = head();
  if (from_height == 0 || from_height > now_head) {
    return "must be between 1 and the head (" + std::to_string(now_head) + ")";
  }
  if (now_head - from_height + 1 > kMaxReorgDepth) {
    return "replaces more than " + std::to_string(kMaxReorgDepth) + " blocks below the head (" +
           std::to_string(now_head) + ")";
  }
  std::size_t old_tip = chain_.tip();
  chain_.fork(Fork{from_height, fork_seed});
  // Subscribers were told of heights up to announced_; a lagging node's head may be below that,
  // and the heights above its head are announced again, on the fork, when the head passes them.
  std::uint64_t told = announced_;
  announced_ = std::min(announced_, now_head);
  log::info("reorg", {{"from_height", from_height}, {"fork_seed", fork_seed}, {"head", now_head}});
  on_reorg(old_tip, from_height, told, announced_);
  return {};
}

void FakeNode::close_connections() {
  if (rpc_server_) rpc_server_->close_connections();
  if (tls_front_) tls_front_->close_connections();
  notify_change();
}

void FakeNode::kill() {
  if (rpc_server_) rpc_server_->stop_accepting();
  if (tls_front_) tls_front_->stop_accepting();
  close_connections();
}

beast::error_code FakeNode::restart() {
  if (stopped_) return asio::error::operation_aborted;
  if (!rpc_server_->listening()) {
    if (auto ec = rpc_server_->listen(rpc_bound_)) return ec;
    rpc_server_->start();
    listening_log("rpc", rpc_bound_);
  }
  if (tls_front_ && !tls_front_->listening()) {
    if (auto ec = tls_front_->listen(*tls_bound_)) return ec;
    tls_front_->start();
    listening_log("tls", *tls_bound_);
  }
  return {};
}

bool FakeNode::listening() const { return rpc_server_ && rpc_server_->listening(); }

json FakeNode::forks_json() const {
  json forks = json::array();
  for (const auto& f : chain_.forks()) forks.push_back({{"from_height", f.from_height}, {"fork_seed", f.fork_seed}});
  return forks;
}

json FakeNode::state() const {
  json overrides = json::object();
  for (const auto& [method, override] : overrides_) overrides[method] = override.to_json();
  std::size_t connections = rpc_server_ ? rpc_server_->connection_count() : 0;
  if (tls_front_) connections += tls_front_->connection_count();
  return json{{"kind", options_.kind == NodeKind::el ? "el" : "cl"},
              {"name", options_.name},
              {"head", head()},
              {"chain_height", chain_height()},
              {"lag", lag_},
              {"paused", paused()},
              {"syncing", syncing_},
              {"healthy", healthy_},
              {"silent", silent_},
              {"interim", interim_ ? json(*interim_) : json(nullptr)},
              {"listening", listening()},
              {"connections", connections},
              {"in_flight", in_flight_},
              {"subscriptions", subscription_count()},
              {"ws_connections", ws_connection_count()},
              {"ws_calls", ws_calls_},
              {"forks", forks_json()},
              {"overrides", std::move(overrides)}};
}

void FakeNode::count_ws_call(const std::string& method) {
  // Method names come from clients: a bounded table, so a client inventing names cannot grow it.
  constexpr std::size_t kMaxMethods = 256;
  if (ws_calls_.size() < kMaxMethods || ws_calls_.contains(method)) ++ws_calls_[method];
}

void FakeNode::notify_change() {
  change_signal_.cancel();
  clock_timer_.cancel();  // a new lag or a resume can move the head at once
}

asio::awaitable<void> FakeNode::wait_for_change() {
  if (stopped_) co_return;
  co_await change_signal_.async_wait(use_tuple);
}

asio::awaitable<void> FakeNode::sleep(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(executor_, delay);
  co_await timer.async_wait(use_tuple);
}

asio::awaitable<void> FakeNode::drain_silently(HttpConnection& connection) {
  connection.take_over();
  char scratch[4096];
  for (;;) {
    auto [ec, n] = co_await connection.stream().async_read_some(asio::buffer(scratch), use_tuple);
    (void)n;
    if (ec) break;
  }
}

asio::awaitable<void> FakeNode::block_clock(std::shared_ptr<FakeNode> self) {
  while (!self->stopped_) {
    std::uint64_t head = self->head();
    if (head > self->announced_) {
      // Heights are announced once each: a head that moves back (more lag) stays quiet until it
      // passes the highest height already announced, like a node that stopped importing.
      std::uint64_t upto = std::min(head, self->announced_ + kMaxHeadsPerTick);
      for (std::uint64_t h = self->announced_ + 1; h <= upto; ++h) self->on_new_head(h);
      self->announced_ = upto;
      if (upto < head) {
        co_await asio::post(self->executor_, asio::use_awaitable);
        continue;
      }
    }
    std::int64_t now = now_ms();
    std::int64_t wait = self->chain_.next_block_ms(self->chain_.height_at(now)) - now;
    self->clock_timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(wait, 1)));
    co_await self->clock_timer_.async_wait(use_tuple);
  }
}

}  // namespace vixy::fakenodes
