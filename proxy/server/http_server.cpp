#include "server/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"

namespace vixy::server {
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// The most a request body is read at once: larger bodies take more reads, smaller ones one.
constexpr std::uint64_t kBodyReadSize = 64 * 1024;
constexpr std::size_t kKeptReadBuffer = 8 * 1024;
}

asio::awaitable<beast::error_code> HttpConnection::respond(Response response) {
  keep_alive_ = request_keep_alive_ && !stopping_;
  response.keep_alive(keep_alive_);
  response.prepare_payload();
  if (request_is_head_) {
    // HEAD: the headers of the GET answer, Content-Length included, and no body.
    auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await http::async_write(stream_, response, use_tuple);
  (void)n;
  stream_.expires_never();
  if (ec) keep_alive_ = false;
  busy_ = false;  // answered: from here on the connection counts as idle for shutdown
  co_return ec;
}

void HttpConnection::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

HttpServer::HttpServer(asio::any_io_executor executor, Handler handler, ServerLimits limits)
    : executor_(std::move(executor)), handler_(std::move(handler)), limits_(limits), acceptor_(executor_) {}

HttpServer::~HttpServer() = default;

beast::error_code HttpServer::listen(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return ec;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
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

void HttpServer::start() { asio::co_spawn(executor_, accept_loop(shared_from_this()), asio::detached); }

void HttpServer::stop_accepting() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void HttpServer::close_connections() {
  // close() only cancels; each connection's coroutine unregisters itself as it unwinds.
  for (HttpConnection* c : connections_) c->close();
}

void HttpServer::shutdown_gracefully() {
  stopping_ = true;
  stop_accepting();
  for (HttpConnection* c : connections_) {
    c->stopping_ = true;
    if (!c->busy_) c->close();
  }
}

asio::awaitable<void> HttpServer::accept_loop(std::shared_ptr<HttpServer> self) {
  while (self->acceptor_.is_open()) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) break;
    if (ec) {
      // Out of descriptors or a connection reset while queued: log, breathe, keep serving.
      log::warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(self->executor_, std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto connection = std::make_shared<HttpConnection>(std::move(socket));
    connection->write_timeout_ = self->limits_.write_timeout;
    asio::co_spawn(self->executor_, run_connection(self, std::move(connection)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::answer_bad_request(HttpConnection& connection, http::status status,
                                                     std::string message) {
  Request dummy;
  dummy.keep_alive(false);
  connection.request_keep_alive_ = false;
  connection.request_is_head_ = false;  // the flag may still describe the previous request
  co_await connection.respond(
      make_jsonrpc_error_response(dummy, status, jsonrpc::kInvalidRequest, message));
}

asio::awaitable<void> HttpServer::run_connection(std::shared_ptr<HttpServer> self,
                                                 std::shared_ptr<HttpConnection> connection) {
  self->connections_.insert(connection.get());
  struct Unregister {
    HttpServer* server;
    HttpConnection* connection;
    ~Unregister() { server->connections_.erase(connection); }
  } unregister{self.get(), connection.get()};

  while (!self->stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(self->limits_.max_body_size);
    parser.header_limit(self->limits_.max_header_size);
    connection->stream_.expires_after(self->limits_.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(connection->stream_, connection->buffer_, parser, use_tuple);
    (void)n;
    if (!ec && !parser.is_done()) {
      // Beast reads as much as the buffer has room for, at least 512 bytes; a buffer sized for
      // headers would take a 4 KiB eth_call in nine reads instead of one.
      if (auto length = parser.content_length()) {
        auto& buffer = connection->buffer_;
        buffer.reserve(buffer.size() + static_cast<std::size_t>(std::min<std::uint64_t>(*length, kBodyReadSize)));
      }
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
  connection->close();
}

Response make_response(const Request& request, http::status status, std::string body,
                       std::string_view content_type) {
  Response response{status, request.version()};
  response.set(http::field::server, "vixy");
  response.set(http::field::content_type, content_type);
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response make_jsonrpc_error_response(const Request& request, http::status status, int code,
                                     std::string_view message) {
  return make_response(request, status, jsonrpc::make_error(nullptr, code, message).dump());
}

}  // namespace vixy::server
