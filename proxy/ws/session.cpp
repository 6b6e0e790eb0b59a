#include "ws/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/container/deque.hpp>

#include "log/log.hpp"
#include "routing/client_address.hpp"
#include "ws/hub.hpp"
#include "net/awaitable.hpp"

namespace vixy::ws {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

}  // namespace

// The client's side of the session. Reads are one coroutine (run() awaits it); writes, the closing
// handshake and their deadlines are callbacks, started when there is something to do: an idle
// session holds no pending write-side operation, and a queued message is written at once rather
// than after a timer's cancellation has woken a writer coroutine.
struct Session::Client {
  explicit Client(net::HttpConnection& connection, const asio::any_io_executor& executor)
      : ws(connection.stream()),
        deadline(executor),
        watchdog(executor),
        write_timeout(connection.write_timeout()) {}
  websocket::stream<beast::tcp_stream&> ws;
  std::string writing;  // the message being written: Beast refers to it until the write completes
  boost::container::deque<std::string> outbox;  // behind `writing`; emptied, it holds no memory
  std::size_t backlog_bytes = 0;  // in the outbox
  std::size_t buffered = 0;       // outbox and `writing`: this session's share of the hub's count
  // A client that does not read cannot hold its session (and the memory queued for it) for long:
  // the closing handshake is bounded by `deadline`, every write by watch_write().
  asio::steady_timer deadline;
  asio::steady_timer watchdog;
  std::optional<Clock::time_point> write_started;  // the write in progress
  std::chrono::milliseconds write_timeout;
  std::optional<std::pair<std::uint16_t, std::string>> close_request;
  bool closing = false;  // the closing handshake has begun
};

Session::Session(Hub& hub, net::HttpConnection& connection, std::uint64_t salt)
    : hub_(hub),
      connection_(connection),
      client_(std::make_unique<Client>(connection, hub.executor())),
      core_(hub.nodes(), hub.settings(), salt),
      timer_(hub.executor(), TimePoint::max()),
      turn_(hub.next_turn()) {
  hub_.joined(*this);
}

Session::~Session() { hub_.left(*this); }

asio::awaitable<void> Session::run(std::unique_ptr<Session> self, net::Request& request) {
  (void)self;  // destroyed with this frame, after the session has wound up
  auto& ws = client_->ws;
  ws.read_message_max(hub_.max_client_message_size());
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(beast::http::field::server, "vixy/" VIXY_VERSION); }));
  if (hub_.limiter()) {
    rate_key_ = routing::rate_key(routing::client_address(connection_.peer(), request, hub_.limits().trusted_proxies));
  }
  auto [ec] = co_await ws.async_accept(request, use_tuple);
  // Neither the upgrade request nor the room the HTTP reader grew for it is needed again, and a
  // session would otherwise hold both for its whole life.
  request = {};
  if (connection_.buffer().size() == 0) connection_.buffer().shrink_to_fit();
  if (ec) {
    stop();
    co_await drain_callbacks();
    connection_.close();
    co_return;
  }

  auto& metrics = hub_.metrics();
  metrics.ws_connections_total.inc();
  metrics.ws_connections_active.add(1);
  accepted_ = true;
  if (client_->close_request) {
    write_next();  // vixy began shutting down during the handshake: the client gets 1001 at once
  } else {
    core_.start(hub_.candidates_for(turn_), Clock::now());
    process();
  }
  // The session lasts as long as the client's reads do: a failed write, an expired deadline or
  // the end of the closing handshake closes the socket, and the read fails with it.
  std::exception_ptr failure;
  try {
    co_await read_client();
  } catch (...) {
    failure = std::current_exception();
  }
  stop();
  co_await drain_callbacks();
  release();
  metrics.ws_connections_active.add(-1);
  connection_.close();
  if (failure) std::rethrow_exception(failure);
}

void Session::stop() {
  closed_ = true;
  for (const auto& [connection, channel] : channels_) hub_.mux(channel.node).close(channel.id);
  channels_.clear();
  timer_.cancel();
  client_->deadline.cancel();
  client_->watchdog.cancel();
  // A write or closing handshake still under way ends now: its callback refers to the client stream.
  if (client_->write_started || client_->closing) connection_.close();
}

// Cancelled operations complete as posted handlers that still refer to the session: it stays
// until they ran.
asio::awaitable<void> Session::drain_callbacks() {
  while (callbacks_ > 0) co_await asio::post(hub_.executor(), asio::use_awaitable);
}

void Session::release() {
  hub_.buffered(0, client_->buffered);
  // Whatever this session contributed to the gauges goes with it.
  auto& metrics = hub_.metrics();
  metrics.ws_subscriptions_active.add(-static_cast<double>(reported_subscriptions_));
  metrics.ws_queue_depth.add(-static_cast<double>(reported_queue_));
  hub_.session_moved(reported_node_, std::nullopt);
  reported_subscriptions_ = reported_queue_ = 0;
  reported_node_.reset();
  // The client stream refers to the HTTP connection's socket, which goes away when the handler returns.
  client_.reset();
}

template <typename Body>
void Session::guarded(Body&& body) noexcept {
  // A callback's exception would leave io_context::run() and end the process: it ends the session.
  try {
    body();
  } catch (const std::exception& e) {
    log::error("websocket session failed", {{"error", e.what()}});
    connection_.close();
  } catch (...) {
    log::error("websocket session failed", {{"error", "unknown exception"}});
    connection_.close();
  }
}

asio::awaitable<void> Session::read_client() {
  auto& ws = client_->ws;
  for (;;) {
    // An idle session holds no read buffer: the wait for a message reads its first byte into the
    // string's inline storage, and only the rest of the message gets heap memory. A read into a
    // buffer kept reserved ~1.5 KiB per idle session for as long as it waited.
    std::string text;
    auto buffer = asio::dynamic_buffer(text);
    beast::error_code ec;
    std::tie(ec, std::ignore) = co_await ws.async_read_some(buffer, 1, use_tuple);
    if (!ec && !ws.is_message_done()) std::tie(ec, std::ignore) = co_await ws.async_read(buffer, use_tuple);
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        log::info("websocket client frame too large, closed with 1009",
                  {{"limit_bytes", hub_.max_client_message_size()}});
      }
      co_return;
    }
    if (auto* limiter = hub_.limiter(); limiter && !ws.got_binary()) {
      text.resize(buffer.size());
      if (!within_rate(text, *limiter)) continue;
    }
    auto now = Clock::now();
    if (ws.got_binary()) {
      core_.client_binary(now);
    } else {
      text.resize(buffer.size());  // room prepared for a read but not filled is not part of it
      core_.client_text(text, now);
    }
    process();
  }
}

bool Session::within_rate(std::string_view text, routing::RateLimiter& limiter) {
  const auto& settings = hub_.settings();
  // A batch costs its entries; what the core will refuse anyway (not JSON, too deep, too large a
  // batch) costs one and is answered with one error.
  bool valid = jsonrpc::raw::check(text, settings.max_json_depth) == jsonrpc::raw::Verdict::ok;
  auto entries = valid ? jsonrpc::raw::count_elements(text, settings.max_batch_size) : std::nullopt;
  bool per_entry = valid && (!entries || (*entries > 0 && *entries <= settings.max_batch_size));
  std::size_t cost = per_entry && entries ? *entries : 1;
  auto verdict = limiter.admit(rate_key_, cost, Clock::now().time_since_epoch());
  if (verdict.allowed) return true;
  hub_.metrics().refused_rate_limited.inc(cost);
  const auto& limits = hub_.limits();
  auto why = routing::rate_limited_message(limits.requests_per_second, limits.burst,
                                           routing::retry_after_seconds(verdict.retry_after));
  std::string answer = per_entry ? jsonrpc::error_for_each(text, jsonrpc::kLimitExceeded, why)
                                 : jsonrpc::error_text("null", jsonrpc::kLimitExceeded, why);
  if (!answer.empty()) {  // a notification gets nothing
    hub_.session_metrics().to_client.inc();
    queue_for_client(std::move(answer));
  }
  return false;
}

// Ends the session when a write to the client has not finished within write_timeout: the client is
// not reading, and a half-written frame leaves nothing to close politely. Writes only stamp their
// start and make sure this is armed (arming a timer per write, an awaitable `||` around each,
// tripled a busy session's latency under ASan): it fires at the deadline of the write that armed
// it, then follows the write in progress, if any, to that one's deadline, and rests while the
// client has nothing to write. Closing the socket fails the write and the read, which ends the session.
void Session::watch_write() {
  if (watching_write_) return;
  watching_write_ = true;
  client_->watchdog.expires_at(*client_->write_started + client_->write_timeout);
  ++callbacks_;
  client_->watchdog.async_wait([this](const beast::error_code& ec) {
    --callbacks_;
    watching_write_ = false;
    if (ec || closed_ || !client_->write_started) return;
    if (Clock::now() - *client_->write_started < client_->write_timeout) {
      watch_write();
      return;
    }
    log::warn("websocket client not reading, closed",
              {{"reason", "write_timeout"}, {"timeout_ms", client_->write_timeout.count()}});
    hub_.session_metrics().closed_write_timeout.inc();
    connection_.close();
  });
}

void Session::queue_for_client(std::string text) {
  auto& client = *client_;
  if (client.close_request) return;  // closing: nothing more is queued, what was is already freed
  std::size_t size = text.size();
  client.buffered += size;
  hub_.buffered(size, 0);
  if (!client.write_started && client.outbox.empty() && !closed_) {
    start_write(std::move(text));
    return;
  }
  client.outbox.push_back(std::move(text));
  client.backlog_bytes += size;
  auto overflow = check_backlog(hub_.backlog_limits(), client.backlog_bytes, client.outbox.size(),
                                hub_.process_buffered_bytes(), hub_.process_sessions());
  if (overflow == Overflow::none) return;
  log::warn("websocket client not reading, closed",
            {{"reason", to_string(overflow)}, {"backlog_bytes", client.backlog_bytes},
             {"process_buffered_bytes", hub_.process_buffered_bytes()}});
  hub_.session_metrics().closed_for(overflow).inc();
  // What waits is dropped at once; the write in progress (bounded by its deadline) finishes, then
  // the client gets 1008.
  client.buffered -= client.backlog_bytes;
  hub_.buffered(0, client.backlog_bytes);
  client.outbox.clear();
  client.outbox.shrink_to_fit();
  client.backlog_bytes = 0;
  close_client(1008, "client too slow");
}

void Session::start_write(std::string text) {
  auto& client = *client_;
  client.writing = std::move(text);
  client.ws.text(true);
  client.write_started = Clock::now();
  watch_write();
  ++callbacks_;
  client.ws.async_write(asio::buffer(client.writing), [this](const beast::error_code& ec, std::size_t) {
    --callbacks_;
    auto& done = *client_;  // released only after every callback ran
    done.write_started.reset();
    done.buffered -= done.writing.size();
    hub_.buffered(0, done.writing.size());
    std::string().swap(done.writing);
    if (ec) {
      connection_.close();  // the read fails too, which ends the session
      return;
    }
    guarded([this] { write_next(); });
  });
}

void Session::write_next() {
  auto& client = *client_;
  if (closed_ || client.write_started || client.closing) return;
  if (!client.outbox.empty()) {
    std::string text = std::move(client.outbox.front());
    client.outbox.pop_front();
    client.backlog_bytes -= text.size();
    if (client.outbox.empty()) client.outbox.shrink_to_fit();
    start_write(std::move(text));
    return;
  }
  if (client.close_request) start_close();
}

void Session::start_close() {
  auto& client = *client_;
  client.closing = true;
  websocket::close_reason reason(client.close_request->second);
  reason.code = client.close_request->first;
  client.deadline.expires_after(client.write_timeout);
  ++callbacks_;
  client.deadline.async_wait([this](const beast::error_code& ec) {
    --callbacks_;
    if (!ec) connection_.close();  // the client did not finish the closing handshake in time
  });
  ++callbacks_;
  // Done or failed, the handshake ends the session: Beast tears the connection down, and closing
  // it here as well makes sure the read ends.
  client.ws.async_close(reason, [this](const beast::error_code&) {
    --callbacks_;
    client_->deadline.cancel();
    connection_.close();
  });
}

void Session::close_client(std::uint16_t code, std::string reason) {
  if (closed_ || client_->close_request) return;
  client_->close_request.emplace(code, std::move(reason));
  // The handshake's answer may still be being written, and a second write on the socket beside it
  // is undefined (Beast asserts): run() starts the closing handshake once the answer is out.
  if (accepted_) write_next();
}

void Session::on_timer() {
  armed_ = TimePoint::max();
  auto now = Clock::now();
  if (auto due = core_.next_deadline(); due && *due <= now) core_.tick(now);
  process();  // re-arms for the next deadline
}

void Session::rearm() {
  // Only an earlier deadline re-arms the timer; a later one is picked up when it fires early.
  auto due = core_.next_deadline().value_or(TimePoint::max());
  if (due >= armed_) return;
  armed_ = due;
  timer_.expires_at(due);  // a wait still pending completes as cancelled
  ++callbacks_;
  timer_.async_wait([this](const beast::error_code& ec) {
    --callbacks_;
    if (!ec && !closed_) guarded([this] { on_timer(); });  // also when the core's deadline has moved later since
  });
}

void Session::health_changed(const std::vector<std::size_t>& candidates) {
  if (closed_) return;
  (void)candidates;  // the hub's, which candidates_for orders for this session
  core_.health_changed(hub_.candidates_for(turn_), Clock::now());
  process();
}

void Session::process() {
  if (processing_ || closed_) return;  // a nested call: the outer loop picks the actions up
  processing_ = true;
  std::uint64_t to_client_count = 0;
  for (auto actions = core_.take_actions(); !actions.empty(); actions = core_.take_actions()) {
    for (auto& action : actions) {
      if (auto* to_client = std::get_if<SendClient>(&action)) {
        ++to_client_count;
        queue_for_client(std::move(to_client->text));
      } else if (auto* to_node = std::get_if<SendUpstream>(&action)) {
        auto channel = channels_.find(to_node->connection);
        if (channel == channels_.end()) continue;
        hub_.mux(channel->second.node).send(channel->second.id, to_node->text, to_node->backfill);
      } else if (auto* connect = std::get_if<Connect>(&action)) {
        open_link(connect->connection, connect->node);
      } else if (auto* disconnect = std::get_if<Disconnect>(&action)) {
        drop_link(disconnect->connection);
      }
    }
  }
  processing_ = false;
  if (to_client_count > 0) hub_.session_metrics().to_client.inc(to_client_count);
  publish_metrics();
  rearm();
}

void Session::open_link(ConnectionId connection, std::size_t node) {
  Channel channel{node, hub_.next_channel()};
  channels_[connection] = channel;
  hub_.mux(node).open(channel.id, *this, connection);
}

void Session::drop_link(ConnectionId connection) {
  auto it = channels_.find(connection);
  if (it == channels_.end()) return;
  Channel channel = it->second;
  channels_.erase(it);
  hub_.mux(channel.node).close(channel.id);
}

void Session::channel_up(ConnectionId connection) {
  if (closed_) return;
  core_.upstream_connected(connection, Clock::now());
  process();
}

void Session::channel_text(ConnectionId connection, std::string_view text) {
  if (closed_) return;
  core_.upstream_text(connection, text, Clock::now());
  process();
}

void Session::channel_notification(ConnectionId connection, const Notification& note, std::string_view alias) {
  if (closed_) return;
  core_.upstream_notification(connection, note, alias, Clock::now());
  process();
}

void Session::channel_down(ConnectionId connection) {
  channels_.erase(connection);
  if (closed_) return;
  core_.upstream_lost(connection, Clock::now());
  process();
}

void Session::publish_metrics() {
  auto& labelled = hub_.session_metrics();
  auto& metrics = labelled.all;
  const SessionCounters& now = core_.counters();
  auto grow = [](observability::Counter& counter, std::uint64_t current, std::uint64_t& reported) {
    if (current > reported) counter.inc(current - reported);
    reported = current;
  };
  grow(labelled.to_upstream, now.client_messages, reported_.client_messages);
  grow(labelled.connect_ok, now.connect_attempts_ok, reported_.connect_attempts_ok);
  grow(labelled.connect_failed, now.connect_attempts_failed, reported_.connect_attempts_failed);
  grow(metrics.ws_reconnections_total, now.reconnections, reported_.reconnections);
  grow(metrics.ws_failbacks_total, now.failbacks, reported_.failbacks);
  grow(metrics.ws_subscriptions_total, now.subscriptions_created, reported_.subscriptions_created);
  grow(metrics.ws_replayed_subscriptions_total, now.subscriptions_replayed, reported_.subscriptions_replayed);
  grow(metrics.ws_resent_requests_total, now.requests_resent, reported_.requests_resent);
  grow(metrics.ws_outcome_unknown_total, now.requests_outcome_unknown, reported_.requests_outcome_unknown);
  grow(metrics.ws_request_timeouts_total, now.requests_timed_out, reported_.requests_timed_out);
  grow(metrics.ws_queue_full_errors_total, now.queue_full_errors, reported_.queue_full_errors);
  grow(metrics.refused_methods, now.methods_refused, reported_.methods_refused);
  grow(metrics.ws_stray_upstream_messages_total, now.stray_upstream_messages, reported_.stray_upstream_messages);
  grow(metrics.ws_invalid_upstream_messages_total, now.invalid_upstream_messages,
       reported_.invalid_upstream_messages);
  for (std::size_t kind = 0; kind < gapless::kCountedKinds; ++kind) {
    const auto& counts = now.gapless[kind];
    auto& reported = reported_.gapless[kind];
    if (counts.gaps > reported.gaps) {
      log::warn("websocket subscription gap not filled: the client misses heads or logs",
                {{"kind", gapless::kind_label(static_cast<gapless::Kind>(kind))}, {"gaps", counts.gaps - reported.gaps}});
    }
    grow(*labelled.backfilled[kind], counts.backfilled, reported.backfilled);
    grow(*labelled.duplicates_dropped[kind], counts.duplicates, reported.duplicates);
    grow(*labelled.unfilled_gaps[kind], counts.gaps, reported.gaps);
  }

  std::size_t subscriptions = core_.subscription_count();
  metrics.ws_subscriptions_active.add(static_cast<double>(subscriptions) - static_cast<double>(reported_subscriptions_));
  reported_subscriptions_ = subscriptions;
  std::size_t queued = core_.queued_messages();
  metrics.ws_queue_depth.add(static_cast<double>(queued) - static_cast<double>(reported_queue_));
  reported_queue_ = queued;
  auto node = core_.active_node();
  if (node != reported_node_) {
    hub_.session_moved(reported_node_, node);
    reported_node_ = node;
  }
}

}  // namespace vixy::ws
