#include "net/http_server.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/read.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "net/awaitable.hpp"

namespace vixy::net {
namespace {
// The most a request body is read at once: larger bodies take more reads, smaller ones one.
constexpr std::uint64_t kBodyReadSize = 64 * 1024;
constexpr std::size_t kKeptReadBuffer = 8 * 1024;
// Accept failing (out of descriptors) is retried after a pause that doubles up to a second, so a
// process at its limit neither spins nor stays deaf long after descriptors are free again.
constexpr std::chrono::milliseconds kAcceptBackoffMin{10};
constexpr std::chrono::milliseconds kAcceptBackoffMax{1'000};
// Trouble that comes in floods (accept failures, refused connections) is logged at most this often,
// each line with the count since the previous one.
constexpr std::chrono::seconds kTroubleLogInterval{10};
// An accepted client may need a descriptor for its upstream too: out of descriptors, this many
// idle connections are closed per failed accept.
constexpr int kDescriptorsFreedPerFailure = 2;
using jsonrpc::kLimitExceeded;

class Throttle {
 public:
  // Counts one event; true when a line is due (the first event, then at most one per interval).
  bool note() {
    ++count_;
    auto now = std::chrono::steady_clock::now();
    if (now < next_) return false;
    next_ = now + kTroubleLogInterval;
    return true;
  }
  std::uint64_t take() { return std::exchange(count_, 0); }

 private:
  std::chrono::steady_clock::time_point next_{};
  std::uint64_t count_ = 0;
};

bool out_of_descriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system;
}

// Reads a request header into `parser`, at most `limit` bytes of it in all. Beast 1.81's
// header_limit bounds only the part of a header not parsed yet: fields parsed from an earlier read
// are consumed, and the server reads a few KiB at a time, so a header of many short fields went
// through a 16 KiB limit at 160 KB (its fields held in memory until the header deadline). The
// parser is fed here read by read, as http::async_read_header does, with what is left of the limit.
asio::awaitable<beast::error_code> read_header(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                              http::request_parser<http::string_body>& parser, std::uint32_t limit) {
  std::size_t parsed = 0;
  for (;;) {
    if (buffer.size() > 0) {
      beast::error_code ec;
      parser.header_limit(static_cast<std::uint32_t>(limit - std::min<std::size_t>(parsed, limit)));
      std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      parsed += used;
      // One put may take the start line and then fields up to the limit each: the sum decides.
      if (parsed > limit || (ec == http::error::need_more && parsed == limit)) ec = http::error::header_limit;
      if (ec != http::error::need_more) co_return ec;
    }
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(beast::read_size(buffer, 65536)), use_tuple);
    buffer.commit(n);
    if (ec == asio::error::eof) co_return parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
    if (ec) co_return ec;
  }
}

std::string_view path_of(const Request& request) {
  std::string_view target = request.target();
  return target.substr(0, target.find('?'));
}

}  // namespace

struct HttpServer::AcceptTrouble {
  Throttle failures;
  Throttle capped;  // evictions and refusals
  std::uint64_t evicted = 0;
  std::uint64_t refused[3] = {};
};

HttpServer::HttpServer(asio::any_io_executor executor, Handler handler, ServerLimits limits)
    : executor_(std::move(executor)),
      handler_(std::move(handler)),
      limits_(std::move(limits)),
      acceptor_(executor_),
      gate_(limits_.caps, limits_.shared_counts),
      trouble_(std::make_unique<AcceptTrouble>()) {}

HttpServer::~HttpServer() = default;

beast::error_code HttpServer::listen(const tcp::endpoint& endpoint, bool shared_port) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return ec;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && shared_port) {
    acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  }
  if (ec) return ec;
  acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return ec;
  }
  local_endpoint_ = acceptor_.local_endpoint(ec);
  stopping_ = false;
  return ec;
}

bool HttpServer::listening() const { return acceptor_.is_open(); }

void HttpServer::start() { asio::co_spawn(executor_, accept_loop(shared_from_this()), log::report_exception("accept loop")); }

void HttpServer::stop_accepting() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void HttpServer::close_connections() {
  // close() only cancels; each connection's coroutine unregisters itself as it unwinds.
  for (auto& [id, c] : connections_) c->close();
}

void HttpServer::shutdown_gracefully() {
  stopping_ = true;
  stop_accepting();
  for (auto& [id, c] : connections_) {
    c->stopping_ = true;
    if (!c->busy_) c->close();
  }
}

namespace {

// An accept error's text without a virtual call into its category when it is an errno: accepts
// fail most when descriptors run out, and there UBSan's check of such a call (it tests the vtable's
// memory through a pipe) fails too and stopped the sanitized vixy over a valid object.
std::string accept_error_text(const beast::error_code& ec) {
  if (ec.category() == boost::system::system_category()) {
    if (const char* text = ::strerrordesc_np(ec.value())) return text;
  }
  return ec.message();
}

}  // namespace

asio::awaitable<void> HttpServer::accept_loop(std::shared_ptr<HttpServer> self) {
  auto backoff = kAcceptBackoffMin;
  asio::steady_timer pause(self->executor_);
  while (self->acceptor_.is_open()) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) break;
    if (!ec) {
      backoff = kAcceptBackoffMin;
      self->admit(std::move(socket));
      continue;
    }
    // Out of descriptors the client waits in the backlog: closing the longest-idle connections
    // gives descriptors back for it (and for its upstream).
    if (out_of_descriptors(ec)) {
      for (int i = 0; i < kDescriptorsFreedPerFailure && self->evict_idle_connection(); ++i) {
      }
    }
    if (self->trouble_->failures.note()) {
      log::warn("accept failed", {{"error", accept_error_text(ec)},
                                  {"failures", self->trouble_->failures.take()},
                                  {"open_connections", self->connections_.size()},
                                  {"retry_ms", backoff.count()}});
    }
    pause.expires_after(backoff);
    co_await pause.async_wait(use_tuple);
    backoff = std::min(backoff * 2, kAcceptBackoffMax);
  }
}

void HttpServer::admit(tcp::socket socket) {
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return;  // the client left while it waited in the backlog
  auto id = ++next_id_;
  auto admission = gate_.admit(id, remote.address());
  if (admission.evicted) close_evicted(*admission.evicted);
  if (admission.refusal) note_refusal(*admission.refusal);
  if (admission.verdict == ConnectionGate::Verdict::close) return;  // the socket closes as it goes
  socket.set_option(tcp::no_delay(true), ec);
  auto connection = std::make_shared<HttpConnection>(std::move(socket));
  connection->id_ = id;
  connection->write_timeout_ = limits_.write_timeout;
  connection->peer_ = remote.address();
  connections_.emplace(id, connection.get());
  auto self = shared_from_this();
  if (admission.verdict == ConnectionGate::Verdict::serve) {
    asio::co_spawn(executor_, run_connection(std::move(self), std::move(connection)),
                   log::report_exception("http connection"));
  } else {
    asio::co_spawn(executor_, run_overflow(std::move(self), std::move(connection), *admission.refusal),
                   log::report_exception("overflow connection"));
  }
  served_changed();
}

bool HttpServer::evict_idle_connection() {
  auto id = gate_.evict_idle();
  if (!id) return false;
  close_evicted(*id);
  served_changed();
  return true;
}

void HttpServer::close_evicted(ConnectionGate::Id id) {
  auto at = connections_.find(id);
  if (at != connections_.end()) {
    at->second->evicted_ = true;
    at->second->close();
  }
  if (events_.evicted) events_.evicted();
  ++trouble_->evicted;
  log_capped();
}

void HttpServer::note_refusal(Refusal refusal) {
  if (events_.refused) events_.refused(refusal);
  ++trouble_->refused[static_cast<int>(refusal)];
  log_capped();
}

void HttpServer::log_capped() {
  auto& t = *trouble_;
  if (!t.capped.note()) return;
  t.capped.take();
  log::warn("connection cap reached", {{"served", gate_.served()},
                                       {"max_connections", limits_.caps.max_connections},
                                       {"max_connections_per_ip", limits_.caps.max_connections_per_ip},
                                       {"evicted_idle", std::exchange(t.evicted, 0)},
                                       {"refused_max_connections", std::exchange(t.refused[0], 0)},
                                       {"refused_per_ip", std::exchange(t.refused[1], 0)},
                                       {"refused_overflow", std::exchange(t.refused[2], 0)}});
}

void HttpServer::served_changed() {
  if (events_.served_changed) events_.served_changed(gate_.served());
}

// A connection is registered (for shutdown and eviction) from admission; it is forgotten as its
// coroutine unwinds.
struct HttpServer::Unregister {
  ~Unregister() {
    server.connections_.erase(connection.id_);
    server.gate_.release(connection.id_);
    server.served_changed();
  }
  HttpServer& server;
  HttpConnection& connection;
};

asio::awaitable<void> HttpServer::answer_bad_request(HttpConnection& connection, http::status status,
                                                     std::string message) {
  Request dummy;
  dummy.keep_alive(false);
  connection.request_keep_alive_ = false;
  connection.request_is_head_ = false;  // the flag may still describe the previous request
  connection.refused_ = true;
  co_await connection.respond(
      make_jsonrpc_error_response(dummy, status, jsonrpc::kInvalidRequest, message));
}

asio::awaitable<bool> HttpServer::accept_header(HttpConnection& connection,
                                                http::request_parser<http::string_body>& parser) {
  auto& header = parser.get();
  // RFC 9112 §6: chunked is the only transfer coding vixy decodes. Together with Content-Length
  // (either order; Beast takes an unknown coding's Content-Length as the framing) or in HTTP/1.0
  // the framing is ambiguous, the stuff of request smuggling.
  auto codings = header.equal_range(http::field::transfer_encoding);
  if (codings.first != codings.second) {
    if (header.count(http::field::content_length) > 0 || header.version() < 11) {
      co_await answer_bad_request(connection, http::status::bad_request,
                                  "Transfer-Encoding with Content-Length, or in HTTP/1.0, is ambiguous framing");
      co_return false;
    }
    if (std::next(codings.first) != codings.second || !beast::iequals(codings.first->value(), "chunked")) {
      co_await answer_bad_request(connection, http::status::not_implemented,
                                  "unsupported Transfer-Encoding (only chunked): " +
                                      std::string(codings.first->value()));
      co_return false;
    }
  }
  // RFC 9110 §10.1.1; an HTTP/1.0 client's expectation is ignored.
  auto expect = header.find(http::field::expect);
  if (expect == header.end() || header.version() < 11) co_return true;
  if (!beast::iequals(expect->value(), "100-continue")) {
    co_await answer_bad_request(connection, http::status::expectation_failed,
                                "unsupported expectation: " + std::string(expect->value()));
    co_return false;
  }
  if (parser.is_done() || connection.buffer_.size() > 0) co_return true;  // no body, or it is coming
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  connection.stream_.expires_after(connection.write_timeout_);
  auto [ec, n] = co_await asio::async_write(connection.stream_, asio::buffer(kContinue.data(), kContinue.size()),
                                            use_tuple);
  (void)n;
  co_return !ec;
}

asio::awaitable<void> HttpServer::run_connection(std::shared_ptr<HttpServer> self,
                                                 std::shared_ptr<HttpConnection> connection) {
  Unregister unregister{*self, *connection};
  auto id = connection->id_;
  while (!self->stopping_ && !connection->evicted_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(self->limits_.max_body_size);
    // The wait for a request and its whole header share one deadline, so a client trickling header
    // bytes (slowloris) is cut off like an idle one; meanwhile both may be evicted to make room.
    connection->stream_.expires_after(self->limits_.idle_timeout);
    self->gate_.idle(id);
    auto ec = co_await read_header(connection->stream_, connection->buffer_, parser, self->limits_.max_header_size);
    self->gate_.busy(id);
    if (connection->evicted_) break;  // a request that arrived as it was evicted is not served
    // Most requests carry neither field accept_header judges: they skip its coroutine frame.
    const auto& fields = parser.get();
    if (!ec && (fields.count(http::field::transfer_encoding) > 0 || fields.count(http::field::expect) > 0)) {
      bool go_on = co_await self->accept_header(*connection, parser);
      if (!go_on) break;
    }
    if (!ec && !parser.is_done()) {
      // Beast reads as much as the buffer has room for, at least 512 bytes; a buffer sized for
      // headers would take a 4 KiB eth_call in nine reads instead of one.
      if (auto length = parser.content_length()) {
        auto& buffer = connection->buffer_;
        buffer.reserve(buffer.size() + static_cast<std::size_t>(std::min<std::uint64_t>(*length, kBodyReadSize)));
      }
      // The body has a deadline of its own: a client that idled before its request is not cut off
      // in the middle of the body for it.
      connection->stream_.expires_after(self->limits_.idle_timeout);
      auto [body_ec, body_n] = co_await http::async_read(connection->stream_, connection->buffer_, parser, use_tuple);
      (void)body_n;
      ec = body_ec;
    }
    connection->stream_.expires_never();
    if (ec == http::error::body_limit) {
      co_await self->answer_bad_request(
          *connection, http::status::payload_too_large,
          "request body exceeds max_body_size (" + std::to_string(self->limits_.max_body_size) + " bytes)");
      break;
    }
    if (ec == http::error::header_limit) {
      co_await self->answer_bad_request(*connection, http::status::request_header_fields_too_large,
                                        "request headers too large");
      break;
    }
    if (ec) {
      // A malformed request gets a 400; a closed, reset or idle connection just ends.
      if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
          ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        co_await self->answer_bad_request(*connection, http::status::bad_request,
                                          "malformed HTTP request: " + ec.message());
      }
      break;
    }

    Request request = parser.release();
    request.erase(http::field::expect);  // met above; not for a node to meet again
    connection->request_keep_alive_ = request.keep_alive();
    connection->request_is_head_ = request.method() == http::verb::head;
    connection->keep_alive_ = request.keep_alive();
    connection->busy_ = true;
    bool failed = false;
    try {
      co_await self->handler_(*connection, request);
    } catch (const std::exception& e) {
      log::error("handler failed", {{"target", std::string(request.target())}, {"error", e.what()}});
      failed = true;
    }
    connection->held_.reset();
    if (connection->taken_) break;
    // Room made for a large body is given back: thousands of idle keep-alive clients that each
    // once sent 64 KiB must not hold 64 KiB each.
    if (connection->buffer_.capacity() > kKeptReadBuffer) connection->buffer_.shrink_to_fit();
    if (connection->busy_ || failed) {
      // The handler neither answered nor took the connection: a bug, but never a silent hang.
      if (connection->busy_) {
        connection->request_keep_alive_ = false;
        co_await connection->respond(make_jsonrpc_error_response(
            request, http::status::internal_server_error, jsonrpc::kInternalError, "internal error"));
      }
      break;
    }
    if (!connection->keep_alive_ || connection->stopping_) break;
  }
  if (connection->refused_ && !connection->evicted_ && !self->stopping_) {
    co_await connection->close_after_refusal();
  } else {
    connection->close();
  }
}

asio::awaitable<void> HttpServer::run_overflow(std::shared_ptr<HttpServer> self,
                                               std::shared_ptr<HttpConnection> connection, Refusal refusal) {
  Unregister unregister{*self, *connection};
  // One request header, quickly, then one answer and the end; the body is never read.
  http::request_parser<http::string_body> parser;
  connection->stream_.expires_after(self->limits_.overflow_timeout);
  auto ec = co_await read_header(connection->stream_, connection->buffer_, parser, self->limits_.max_header_size);
  connection->stream_.expires_never();
  if (ec || self->stopping_) {
    connection->close();
    co_return;
  }
  Request request = parser.release();
  connection->request_keep_alive_ = false;
  connection->request_is_head_ = request.method() == http::verb::head;
  connection->busy_ = true;
  bool probe = !self->limits_.always_served_path.empty() && path_of(request) == self->limits_.always_served_path &&
               (request.method() == http::verb::get || request.method() == http::verb::head);
  if (probe) {
    try {
      co_await self->handler_(*connection, request);
    } catch (const std::exception& e) {
      log::error("handler failed", {{"target", std::string(request.target())}, {"error", e.what()}});
    }
    connection->held_.reset();
    if (connection->taken_) co_return;
  }
  if (connection->busy_) {
    bool per_ip = refusal == Refusal::per_ip;
    std::string message =
        per_ip ? "too many connections from this address (max_connections_per_ip " +
                     std::to_string(self->limits_.caps.max_connections_per_ip) + ")"
               : "too many connections (max_connections " + std::to_string(self->limits_.caps.max_connections) +
                     "); try again later";
    auto status = per_ip ? http::status::too_many_requests : http::status::service_unavailable;
    auto response = make_jsonrpc_error_response(request, status, kLimitExceeded, message);
    response.set(http::field::retry_after, "1");
    co_await connection->respond(std::move(response));
  }
  co_await connection->close_after_refusal();
}

}  // namespace vixy::net
