#include "net/connect.hpp"

#include <boost/asio/ip/tcp.hpp>

#include "net/awaitable.hpp"
#include "net/tls_client.hpp"

namespace vixy::net {

// As http_server.hpp names it: in an anonymous namespace it would shadow that one wherever a unity
// batch puts both files together.
using tcp = boost::asio::ip::tcp;

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;

// Each endpoint in turn, like asio::async_connect, but on a socket opened here so that options
// are in place before the SYN (the range form reopens the socket for every attempt).
asio::awaitable<beast::error_code> connect_any(beast::tcp_stream& stream, const tcp::resolver::results_type& endpoints,
                                               int receive_buffer_size) {
  beast::error_code last = asio::error::host_not_found;
  for (const auto& entry : endpoints) {
    beast::error_code ec;
    stream.socket().close(ec);
    stream.socket().open(entry.endpoint().protocol(), ec);
    if (!ec && receive_buffer_size > 0) {
      stream.socket().set_option(asio::socket_base::receive_buffer_size(receive_buffer_size), ec);
    }
    if (ec) co_return ec;
    tcp::endpoint endpoint = entry.endpoint();
    auto [cec] = co_await stream.async_connect(endpoint, use_tuple);
    if (!cec) co_return beast::error_code{};
    last = cec;
    if (cec == beast::error::timeout) break;  // the deadline is spent: no time for the next address
  }
  co_return last;
}

}  // namespace

asio::awaitable<ConnectResult> connect(const asio::any_io_executor& executor, const UpstreamUrl& url,
                                       asio::ssl::context* tls, const ConnectOptions& options) {
  ConnectResult result;
  if (url.tls && tls == nullptr) {
    result.error = asio::error::operation_not_supported;
    co_return result;
  }
  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(url.host, url.port, use_tuple);
  if (rec) {
    result.error = rec;
    co_return result;
  }
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_at(options.deadline);
  result.error = co_await connect_any(tcp_stream, endpoints, options.receive_buffer_size);
  if (result.error) co_return result;
  beast::error_code ignored;
  // JSON-RPC requests are small and must leave at once, not wait for the peer's delayed ACK.
  tcp_stream.socket().set_option(tcp::no_delay(true), ignored);
  if (!url.tls) {
    result.stream.emplace(std::in_place_index<0>, std::move(tcp_stream));
    co_return result;
  }
  auto& secure = std::get<1>(result.stream.emplace(std::in_place_index<1>, std::move(tcp_stream), *tls));
  expect_server(secure, url.host);
  auto [hec] = co_await secure.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec) {
    result.stream.reset();
    result.error = hec;
  }
  co_return result;
}

}  // namespace vixy::net
