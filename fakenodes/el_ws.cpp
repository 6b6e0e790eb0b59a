#include "fakenodes/el_ws.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <random>

#include "fakenodes/el_node.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "net/awaitable.hpp"

namespace vixy::fakenodes {
namespace {

namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;
using WebSocket = websocket::stream<beast::tcp_stream&>;

// A client that stops reading while blocks keep coming would grow the queue without end; past
// this many queued messages the node drops the connection, as real nodes do with slow readers.
constexpr std::size_t kMaxQueuedMessages = 100'000;
constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;

std::string hex16(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 0xf];
  return out;
}

// Completes once the node is silent (or stopped), so that a pending read can be cancelled.
asio::awaitable<void> silence_begins(std::shared_ptr<ElNode> node) {
  while (!node->silent() && !node->stopped()) co_await node->wait_for_change();
}

asio::awaitable<void> answer_later(std::shared_ptr<ElNode> node, std::shared_ptr<WsSession> session,
                                   json message, std::chrono::milliseconds delay) {
  struct InFlight {
    ElNode& node;
    explicit InFlight(ElNode& n) : node(n) { node.ws_request_started(); }
    ~InFlight() { node.ws_request_finished(); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
  } in_flight(*node);
  asio::steady_timer timer(node->executor(), delay);
  co_await timer.async_wait(use_tuple);
  if (session->closed()) co_return;
  if (auto answer = node->answer_message(message, session.get())) session->send(answer->dump());
}

void handle_text(const std::shared_ptr<ElNode>& node, const std::shared_ptr<WsSession>& session,
                 std::string_view text) {
  auto message = jsonrpc::parse(text);
  if (!message) {
    session->send(jsonrpc::make_error(nullptr, jsonrpc::kParseError, "parse error").dump());
    return;
  }
  // Answers wait their delay on their own, so a slow method does not hold up the next request.
  if (auto delay = node->delay_for(*message); delay.count() > 0) {
    asio::co_spawn(node->executor(), answer_later(node, session, std::move(*message), delay),
                   log::report_exception("delayed answer"));
    return;
  }
  if (auto answer = node->answer_message(*message, session.get())) session->send(answer->dump());
}

asio::awaitable<void> read_loop(std::shared_ptr<ElNode> node, WebSocket& ws,
                                std::shared_ptr<WsSession> session) {
  beast::flat_buffer buffer;
  bool read_cancelled = false;
  while (!session->closed() && !node->stopped()) {
    if (node->silent()) {
      // Silent: nothing is read, so not even a pong goes out, and nothing is written.
      session->discard_queued();
      co_await node->wait_for_change();
      if (!beast::get_lowest_layer(ws).socket().is_open()) break;
      // A read cancelled midway leaves the stream in an undefined state: end the connection.
      if (!node->silent() && read_cancelled) break;
      continue;
    }
    auto outcome = co_await (ws.async_read(buffer, use_tuple) || silence_begins(node));
    if (outcome.index() == 1) {
      read_cancelled = true;
      continue;
    }
    auto [ec, n] = std::get<0>(outcome);
    (void)n;
    if (ec) break;
    std::string text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    handle_text(node, session, text);
  }
}

asio::awaitable<void> write_loop(std::shared_ptr<ElNode> node, WebSocket& ws,
                                 std::shared_ptr<WsSession> session) {
  while (!session->closed()) {
    auto message = session->next_message();
    if (!message) {
      co_await session->wait_for_work();
      continue;
    }
    if (node->silent()) continue;
    ws.text(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(*message), use_tuple);
    (void)n;
    if (ec) break;
  }
}

}  // namespace

std::string next_subscription_id() {
  // A random per-process prefix keeps two nodes from handing out the same id; the counter, mixed
  // by an odd multiplier (a bijection), keeps one process from ever repeating one.
  static const std::uint64_t prefix = [] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }();
  static const std::uint64_t offset = [] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }();
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  return "0x" + hex16(prefix) + hex16((n ^ offset) * 0x9e3779b97f4a7c15ULL);
}

WsSession::WsSession(asio::any_io_executor executor)
    : wake_(std::move(executor), asio::steady_timer::time_point::max()) {}

void WsSession::send(std::string text) {
  if (closed_) return;
  outbox_.push_back(std::move(text));
  if (outbox_.size() > kMaxQueuedMessages) {
    log::warn("websocket client too slow, closing", {{"queued", outbox_.size()}});
    close();
    return;
  }
  wake_.cancel();
}

void WsSession::close() {
  closed_ = true;
  outbox_.clear();
  wake_.cancel();
}

std::optional<std::string> WsSession::next_message() {
  if (outbox_.empty()) return std::nullopt;
  std::string message = std::move(outbox_.front());
  outbox_.pop_front();
  return message;
}

asio::awaitable<void> WsSession::wait_for_work() {
  if (closed_ || !outbox_.empty()) co_return;
  co_await wake_.async_wait(use_tuple);
}

void WsSession::publish(const BlockEvents& block) {
  for_each_notification(subscriptions_, block, [this](std::string text) { send(std::move(text)); });
}

void WsSession::publish(const ReorgEvents& reorg) {
  for_each_notification(subscriptions_, reorg, [this](std::string text) { send(std::move(text)); });
}

asio::awaitable<void> serve_websocket(std::shared_ptr<ElNode> node, net::HttpConnection& connection,
                                      net::Request& request) {
  connection.take_over();
  WebSocket ws(connection.stream());
  ws.read_message_max(kMaxMessageBytes);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "vixy-fakenode"); }));
  auto [ec] = co_await ws.async_accept(request, use_tuple);
  if (ec) co_return;

  auto session = std::make_shared<WsSession>(node->executor());
  node->add_session(session.get());
  struct Unregister {
    ElNode* node;
    WsSession* session;
    ~Unregister() { node->remove_session(session); }
  } unregister{node.get(), session.get()};

  co_await (read_loop(node, ws, session) || write_loop(node, ws, session));
  session->close();
  connection.close();
}

}  // namespace vixy::fakenodes
