// A fake node that precedes its HTTP answers with 1xx interim responses (POST /interim), read off
// the wire: a client library hides them, and what a proxy must cope with is the bytes.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "fakenode_fixture.hpp"

namespace vixy::testing {
namespace {

using fakenodes::NodeKind;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Writes `requests` (raw HTTP/1.1, the last one with Connection: close) and returns every byte the
// node sent until it closed the connection or the timeout passed.
std::string exchange(std::uint16_t port, const std::string& requests, std::chrono::milliseconds timeout = 5s) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(socket, asio::buffer(requests));
  std::string received;
  char chunk[4096];
  std::function<void()> read = [&] {
    socket.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
      received.append(chunk, n);
      if (!ec) read();
    });
  };
  read();
  io.run_for(timeout);
  return received;
}

std::string post(const std::string& body, bool close) {
  return "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + body;
}

std::string get(const std::string& target, bool close) {
  return "GET " + target + " HTTP/1.1\r\nHost: x" + (close ? "\r\nConnection: close" : "") + "\r\n\r\n";
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

const std::string kBlockNumber = R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]})";

TEST(FakeInterim, ElAnswersArePrecededBy100Continue) {
  RunningNode node(NodeKind::el);
  std::string plain = exchange(node.rpc_port(), post(kBlockNumber, true));
  EXPECT_EQ(plain.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << plain;

  EXPECT_EQ(node.admin("/interim", {{"status", 100}})["state"]["interim"], 100);
  // Two requests on one kept-alive connection: each answer has its own interim response first.
  std::string bytes = exchange(node.rpc_port(), post(kBlockNumber, false) + post(kBlockNumber, true));
  EXPECT_EQ(bytes.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0), 0u) << bytes;
  EXPECT_EQ(count(bytes, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), 2u) << bytes;
  EXPECT_EQ(count(bytes, R"("result")"), 2u) << bytes;

  node.admin("/interim", {{"status", 0}});
  EXPECT_TRUE(node.state()["interim"].is_null());
  EXPECT_EQ(exchange(node.rpc_port(), post(kBlockNumber, true)).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST(FakeInterim, ClAnswersArePrecededBy103EarlyHintsWithALink) {
  RunningNode node(NodeKind::cl);
  node.admin("/interim", {{"status", 103}});
  std::string bytes = exchange(node.rpc_port(), get("/eth/v1/node/version", true));
  const std::string hints = "HTTP/1.1 103 Early Hints\r\nLink: </vixy-test/preload.css>; rel=preload; as=style\r\n\r\n";
  EXPECT_EQ(bytes.rfind(hints + "HTTP/1.1 200 OK\r\n", 0), 0u) << bytes;
  EXPECT_NE(bytes.find("vixy-fakenode/"), std::string::npos) << bytes;
  // The event stream's header comes after one too.
  std::string stream = exchange(node.rpc_port(), get("/eth/v1/events?topics=head", true), 300ms);
  EXPECT_EQ(stream.rfind(hints + "HTTP/1.1 200 OK\r\n", 0), 0u) << stream;
}

TEST(FakeInterim, WebSocketUpgradesAndSilenceAreLeftAlone) {
  RunningNode node(NodeKind::el);
  node.admin("/interim", {{"status", 102}});
  // A 1xx in place of the 101 would break the handshake; the upgrade is answered as before.
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_FALSE(ws.send(kBlockNumber));
  auto answer = ws.receive(3s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(json::parse(*answer).contains("result")) << *answer;
  EXPECT_EQ(exchange(node.rpc_port(), post(kBlockNumber, true)).rfind("HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200", 0), 0u);
  // A silent node sends nothing at all, not even the interim response.
  node.admin("/silent", {{"silent", true}});
  EXPECT_EQ(exchange(node.rpc_port(), post(kBlockNumber, true), 300ms), "");
}

TEST(FakeInterim, BadStatusesAreRejected) {
  RunningNode node(NodeKind::el);
  for (const char* body : {R"({})", R"({"status":101})", R"({"status":99})", R"({"status":200})", R"({"status":"100"})",
                           R"({"status":-1})"}) {
    auto result = node.admin_raw("/interim", body);
    EXPECT_EQ(result.status, 400) << body;
    EXPECT_EQ(json::parse(result.body)["ok"], false) << body;
  }
  EXPECT_TRUE(node.state()["interim"].is_null());
  EXPECT_EQ(node.admin("/interim", {{"status", 199}})["state"]["interim"], 199);
  EXPECT_TRUE(node.admin("/interim", {{"status", nullptr}})["state"]["interim"].is_null());
}

}  // namespace
}  // namespace vixy::testing
