// The TLS front: https:// and wss:// clients reach the same node logic through it.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <filesystem>

#include "fakenode_fixture.hpp"
#include "net/awaitable.hpp"
#include "net/ws_client.hpp"

namespace vixy::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

// A throwaway self-signed certificate for 127.0.0.1, written as PEM files.
struct SelfSigned {
  std::filesystem::path cert, key;

  SelfSigned() {
    auto base = std::filesystem::temp_directory_path() / ("vixy-tls-test-" + std::to_string(::getpid()));
    cert = base.string() + "-cert.pem";
    key = base.string() + "-key.pem";
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* x509 = X509_new();
    X509_set_version(x509, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509), 1);
    X509_gmtime_adj(X509_getm_notBefore(x509), -60);
    X509_gmtime_adj(X509_getm_notAfter(x509), 3600);
    X509_set_pubkey(x509, pkey);
    X509_NAME* name = X509_get_subject_name(x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"),
                               -1, -1, 0);
    X509_set_issuer_name(x509, name);
    X509_sign(x509, pkey, EVP_sha256());
    FILE* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x509);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x509);
    EVP_PKEY_free(pkey);
  }
  ~SelfSigned() {
    std::filesystem::remove(cert);
    std::filesystem::remove(key);
  }
};

fakenodes::NodeOptions tls_options(const SelfSigned& certificate, std::uint64_t block_time_ms) {
  fakenodes::NodeOptions options;
  options.kind = fakenodes::NodeKind::el;
  options.chain.block_time_ms = block_time_ms;
  options.name = "tls";
  options.tls = fakenodes::TlsOptions{asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                      certificate.cert.string(), certificate.key.string()};
  return options;
}

asio::awaitable<std::string> https_post(ssl::context& context, std::uint16_t port, std::string body) {
  auto executor = co_await asio::this_coro::executor;
  beast::ssl_stream<beast::tcp_stream> stream(executor, context);
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  auto [connect_ec] = co_await beast::get_lowest_layer(stream).async_connect(endpoint, use_tuple);
  if (connect_ec) co_return "connect: " + connect_ec.message();
  auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (handshake_ec) co_return "handshake: " + handshake_ec.message();
  http::request<http::string_body> request{http::verb::post, "/v3/key", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  [[maybe_unused]] auto [write_ec, written] = co_await http::async_write(stream, request, use_tuple);
  if (write_ec) co_return "write: " + write_ec.message();
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  [[maybe_unused]] auto [read_ec, read] = co_await http::async_read(stream, buffer, response, use_tuple);
  if (read_ec) co_return "read: " + read_ec.message();
  co_return response.body();
}

asio::awaitable<std::vector<std::string>> wss_subscribe(ssl::context& context, std::uint16_t port,
                                                        int messages) {
  auto executor = co_await asio::this_coro::executor;
  net::WsClient ws(executor, &context);
  std::vector<std::string> received;
  auto url = net::parse_upstream_url("wss://127.0.0.1:" + std::to_string(port) + "/");
  if (!url) co_return received;
  net::WsClientOptions options;
  auto connect_ec = co_await ws.connect(*url, options);
  if (connect_ec) co_return received;
  std::string subscribe = R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})";
  auto write_ec = co_await ws.write(subscribe);
  if (write_ec) co_return received;
  while (static_cast<int>(received.size()) < messages) {
    auto [read_ec, text] = co_await ws.read();
    if (read_ec) break;
    received.push_back(std::move(text));
  }
  co_return received;
}

template <class T>
std::optional<T> run_with_deadline(asio::awaitable<T> task, std::chrono::milliseconds deadline = 5s) {
  asio::io_context io;
  std::optional<T> result;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr, T value) { result = std::move(value); });
  io.run_for(deadline);
  return result;
}

TEST(FakeNodeTls, HttpsReachesTheNode) {
  SelfSigned certificate;
  RunningNode node(tls_options(certificate, 1000));
  ASSERT_NE(node.tls_port(), 0);
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_none);
  auto body = run_with_deadline(
      https_post(context, node.tls_port(), R"({"jsonrpc":"2.0","id":7,"method":"eth_chainId"})"));
  ASSERT_TRUE(body);
  json answer = json::parse(*body, nullptr, false);
  ASSERT_FALSE(answer.is_discarded()) << *body;
  EXPECT_EQ(answer["id"], 7);
  EXPECT_EQ(answer["result"], "0x1");
}

TEST(FakeNodeTls, WssSubscriptionsFlowBothWays) {
  SelfSigned certificate;
  RunningNode node(tls_options(certificate, 50));
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_none);
  auto messages = run_with_deadline(wss_subscribe(context, node.tls_port(), 3));
  ASSERT_TRUE(messages);
  ASSERT_EQ(messages->size(), 3u);
  json answer = json::parse((*messages)[0]);
  std::string id = answer["result"];
  EXPECT_EQ(json::parse((*messages)[1])["params"]["subscription"], id);
  EXPECT_EQ(json::parse((*messages)[2])["params"]["subscription"], id);
}

TEST(FakeNodeTls, KillAlsoClosesTheTlsListener) {
  SelfSigned certificate;
  RunningNode node(tls_options(certificate, 1000));
  node.admin("/kill");
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_none);
  auto body = run_with_deadline(
      https_post(context, node.tls_port(), R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})"));
  ASSERT_TRUE(body);
  EXPECT_EQ(body->rfind("connect:", 0), 0u) << *body;
  node.admin("/restart");
  body = run_with_deadline(
      https_post(context, node.tls_port(), R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})"));
  ASSERT_TRUE(body);
  EXPECT_NE(body->find("\"result\""), std::string::npos) << *body;
}

}  // namespace
}  // namespace vixy::testing
