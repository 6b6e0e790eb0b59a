#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "net/http_server.hpp"
#include "net/awaitable.hpp"

namespace vixy::net {
namespace {
// After a refusal, how long and how much of the rest of the request is read and dropped: enough
// for a client to see the answer and stop, never a way to hold the connection open.
constexpr std::chrono::milliseconds kLingerTime{1'000};
constexpr std::size_t kLingerBytes = 1024 * 1024;
}  // namespace

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

asio::awaitable<void> HttpConnection::close_after_refusal() {
  // Closing with unread bytes would send a reset, which may destroy the answer before the client
  // reads it: stop sending, drop what still arrives for a moment, then close.
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLingerTime);
  std::array<char, 4096> sink;
  std::size_t dropped = 0;
  while (dropped < kLingerBytes) {
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) break;
    dropped += n;
  }
  stream_.expires_never();
  close();
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

}  // namespace vixy::net
