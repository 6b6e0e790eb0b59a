// net::connect and net::WsClient against the fake node: the certificate checks every connection
// to a node makes, the one deadline over TCP and TLS, and what the WebSocket client reports.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/websocket/error.hpp>

#include "chaos/cluster.hpp"
#include "chaos/process.hpp"
#include "fakenode_fixture.hpp"
#include "net/connect.hpp"
#include "net/ws_client.hpp"

namespace vixy::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using error_code = boost::system::error_code;

// A self-signed certificate whose subjectAltName is `san`, trusted by client_context().
struct NodeCertificate {
  chaos::TempDir dir{"vixy-net-test"};
  std::string cert = dir.file("cert.pem");
  std::string key = dir.file("key.pem");

  explicit NodeCertificate(const std::string& san) {
    std::string command = "cd '" + dir.path() +
                          "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                          "-subj /CN=vixy-test -addext 'subjectAltName=" + san +
                          "' -keyout key.pem -out cert.pem";
    if (chaos::run_shell(command, dir.file("openssl.log")) != 0) throw std::runtime_error("openssl failed");
  }

  ssl::context client_context() const {
    ssl::context context(ssl::context::tls_client);
    context.load_verify_file(cert);
    context.set_verify_mode(ssl::verify_peer);
    return context;
  }

  fakenodes::NodeOptions node_options() const {
    fakenodes::NodeOptions options;
    options.kind = fakenodes::NodeKind::el;
    options.chain.block_time_ms = kFastBlocks;
    options.name = "tls";
    options.tls = fakenodes::TlsOptions{asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), cert, key};
    return options;
  }
};

net::UpstreamUrl url_of(const std::string& text) {
  auto url = net::parse_upstream_url(text);
  if (!url) throw std::runtime_error("bad URL " + text);
  return *url;
}

// Runs handlers until `done()` holds; false if it did not within 10 s.
template <class Predicate>
bool run_until_done(asio::io_context& io, Predicate done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_until(deadline);
  }
  return done();
}

// Runs `task` until it completes (at most 10 s); nullopt if it did not.
template <class T>
std::optional<T> run_to_end(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr, T value) { result.emplace(std::move(value)); });
  run_until_done(io, [&] { return result.has_value(); });
  return result;
}

asio::awaitable<net::ConnectResult> connect_once(net::UpstreamUrl url, ssl::context& tls,
                                                 std::chrono::milliseconds budget) {
  auto executor = co_await asio::this_coro::executor;
  net::ConnectOptions options{std::chrono::steady_clock::now() + budget};
  co_return co_await net::connect(executor, url, &tls, options);
}

// What one TLS connection to a fake node presenting a certificate for `subject` (trusted: it is its
// own CA) came to: the error, and which stream (0 plain, 1 TLS) when there is one.
struct TlsOutcome {
  bool completed = false;  // the connect ended (with or without an error) before the io ran dry
  error_code error;
  std::optional<std::size_t> stream_index;
};
TlsOutcome connect_to_node_certified_for(const std::string& subject) {
  NodeCertificate certificate(subject);
  RunningNode node(certificate.node_options());
  auto tls = certificate.client_context();
  asio::io_context io;
  auto url = url_of("https://127.0.0.1:" + std::to_string(node.tls_port()));
  auto result = run_to_end(io, connect_once(url, tls, std::chrono::seconds(5)));
  if (!result) return {};
  return {true, result->error, result->stream ? std::optional<std::size_t>(result->stream->index()) : std::nullopt};
}

TEST(NetConnect, TlsToANodeWhoseCertificateNamesItsAddress) {
  auto outcome = connect_to_node_certified_for("IP:127.0.0.1");
  ASSERT_TRUE(outcome.completed);
  EXPECT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.stream_index, std::optional<std::size_t>(1));  // TLS, not plain
}

TEST(NetConnect, CertificateForAnotherHostIsRefusedEvenWhenTrusted) {
  // Issued to another name: only the host-name check refuses it.
  auto outcome = connect_to_node_certified_for("DNS:other.example");
  ASSERT_TRUE(outcome.completed);
  EXPECT_TRUE(outcome.error);
  EXPECT_FALSE(outcome.stream_index);
}

TEST(NetConnect, TheDeadlineAlsoBoundsTheTlsHandshake) {
  // Accepts and never answers: the TCP connect succeeds and the TLS handshake waits forever.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket accepted(io);
  acceptor.async_accept(accepted, [](error_code) {});
  ssl::context tls(ssl::context::tls_client);
  auto url = url_of("https://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
  auto result = run_to_end(io, connect_once(url, tls, std::chrono::milliseconds(300)));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->error, boost::beast::error::timeout) << result->error.message();
  EXPECT_FALSE(result->stream);
}

asio::awaitable<std::vector<std::string>> subscribe_and_read(net::WsClient& ws, net::UpstreamUrl url, int count) {
  std::vector<std::string> received;
  net::WsClientOptions options;
  auto ec = co_await ws.connect(url, options);
  if (ec) {
    received.push_back("connect: " + ec.message());
    co_return received;
  }
  std::string subscribe = R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})";
  ec = co_await ws.write(subscribe);
  while (!ec && static_cast<int>(received.size()) < count) {
    auto [read_ec, text] = co_await ws.read();
    ec = read_ec;
    if (!ec) received.push_back(std::move(text));
  }
  co_return received;
}

TEST(NetWsClient, WssWithTheCertificateVerified) {
  NodeCertificate certificate("IP:127.0.0.1");
  RunningNode node(certificate.node_options());
  auto tls = certificate.client_context();
  asio::io_context io;
  net::WsClient ws(io.get_executor(), &tls);
  auto url = url_of("wss://127.0.0.1:" + std::to_string(node.tls_port()));
  auto received = run_to_end(io, subscribe_and_read(ws, url, 2));
  ASSERT_TRUE(received);
  ASSERT_EQ(received->size(), 2u) << (received->empty() ? "" : received->front());
  std::string id = json::parse((*received)[0])["result"];
  EXPECT_EQ(json::parse((*received)[1])["params"]["subscription"], id);
}

TEST(NetWsClient, WssWithoutATlsContextFails) {
  RunningNode node(fakenodes::NodeKind::el);
  asio::io_context io;
  net::WsClient ws(io.get_executor());
  auto received = run_to_end(io, subscribe_and_read(ws, url_of("wss://127.0.0.1:" + std::to_string(node.rpc_port())), 1));
  ASSERT_TRUE(received);
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ(received->front().rfind("connect: ", 0), 0u) << received->front();
}

asio::awaitable<std::pair<error_code, error_code>> close_gracefully(net::WsClient& ws, net::UpstreamUrl url) {
  net::WsClientOptions options;
  auto ec = co_await ws.connect(url, options);
  if (ec) co_return std::pair{ec, ec};
  auto close_ec = co_await ws.close(4000, "done here");
  // The read after the closing handshake reports it as such.
  auto [read_ec, text] = co_await ws.read();
  co_return std::pair{close_ec, read_ec};
}

TEST(NetWsClient, GracefulCloseSeesThePeersCloseFrame) {
  RunningNode node(fakenodes::NodeKind::el);
  asio::io_context io;
  net::WsClient ws(io.get_executor());
  auto result = run_to_end(io, close_gracefully(ws, url_of("ws://127.0.0.1:" + std::to_string(node.rpc_port()))));
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->first) << result->first.message();
  EXPECT_TRUE(result->second);
  // Beast's server answers a close frame with the same code.
  EXPECT_EQ(ws.close_code(), 4000);
  EXPECT_FALSE(ws.is_open());
}

// A client connected to an EL node that makes no blocks, so nothing arrives unless asked for.
struct ConnectedToQuietNode {
  RunningNode node{fakenodes::NodeKind::el, 7, 60'000};
  asio::io_context io;
  net::WsClient ws{io.get_executor()};

  ::testing::AssertionResult connect() {
    auto connected = run_to_end(io, ws.connect(url_of("ws://127.0.0.1:" + std::to_string(node.rpc_port())), {}));
    if (!connected) return ::testing::AssertionFailure() << "connect did not finish";
    if (*connected) return ::testing::AssertionFailure() << connected->message();
    return ::testing::AssertionSuccess();
  }
};

TEST(NetWsClient, AbortFailsAPendingReadAtOnce) {
  ConnectedToQuietNode c;
  ASSERT_TRUE(c.connect());
  // References, not a structured binding: clang 14 cannot capture bindings in lambdas.
  auto& io = c.io;
  auto& ws = c.ws;
  std::optional<error_code> read_ec;
  asio::co_spawn(io, ws.read(), [&](std::exception_ptr, std::pair<error_code, std::string> got) { read_ec = got.first; });
  io.restart();
  io.poll();  // the read is now pending
  EXPECT_FALSE(read_ec);
  ws.abort();
  run_until_done(io, [&] { return read_ec.has_value(); });
  ASSERT_TRUE(read_ec);
  EXPECT_TRUE(*read_ec);
  EXPECT_FALSE(ws.is_open());
}

TEST(NetWsClient, PingIsAnsweredWithAPong) {
  ConnectedToQuietNode c;
  ASSERT_TRUE(c.connect());
  // References, not a structured binding: clang 14 cannot capture bindings in lambdas.
  auto& io = c.io;
  auto& ws = c.ws;
  // Control frames are seen by a pending read.
  bool read_done = false;
  asio::co_spawn(io, ws.read(), [&](std::exception_ptr, std::pair<error_code, std::string>) { read_done = true; });
  std::optional<error_code> ping_ec;
  asio::co_spawn(io, ws.ping(), [&](std::exception_ptr, error_code ec) { ping_ec = ec; });
  EXPECT_EQ(ws.pongs(), 0u);
  run_until_done(io, [&] { return ping_ec && ws.pongs() > 0; });
  ASSERT_TRUE(ping_ec);
  EXPECT_FALSE(*ping_ec);
  EXPECT_EQ(ws.pongs(), 1u);
  EXPECT_FALSE(read_done);  // a pong is not a message
  ws.abort();
  EXPECT_TRUE(run_until_done(io, [&] { return read_done; }));
}

}  // namespace
}  // namespace vixy::testing
