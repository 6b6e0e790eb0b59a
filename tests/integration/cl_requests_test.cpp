// What reaches a CL node for a client's /cl request, through the real vixy binary: the node URL's
// path and query stay the node's (a client cannot step out of a keyed path or override a keyed
// parameter), methods a beacon API never uses are refused, a client that stops reading an event
// stream is let go of, and the node's URL never shows in /status or the log.
#include <gtest/gtest.h>

#include <array>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "support/harness.hpp"
#include "support/raw_node.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

RawNode execution_node() {
  return RawNode(execution_script([](const RawRequest&) { return RawAnswer{raw_response(200, "{}")}; }));
}

// Targets the node saw apart from health checks.
std::vector<std::string> client_targets(const RawNode& node) {
  std::vector<std::string> out;
  for (const auto& t : node.targets()) {
    if (t.find("/eth/v1/node/health") == std::string::npos && t.find("/eth/v1/beacon/headers/head") == std::string::npos) {
      out.push_back(t);
    }
  }
  return out;
}

double metric(VixyProcess& vixy, const std::string& series) {
  auto r = vixy.get("/metrics");
  return r.status == 200 ? metric_sample(r.body, series) : -1;
}

TEST(ClRequests, PathsThatLeaveTheNodesPathAreRefusedBeforeAnyNodeIsAsked) {
  auto el = execution_node();
  RawNode cl(beacon_script(echo_target));
  VixyProcess vixy(raw_config(el.url(), cl.url() + "/KEY/"));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  const char* attacks[] = {"/cl/../el",       "/cl/%2e%2e/el",   "/cl/%2E./el", "/cl/.%2e/status", "/cl//x",
                           "/cl/x/..%2fy",    "/cl/x%5c..%5cy",  "/cl/x\\..",   "/cl/a%00b",       "/cl/..;/el",
                           "/cl/eth/v1/../../x"};
  for (std::string_view attack : attacks) {
    auto r = vixy.get(std::string(attack));
    EXPECT_EQ(r.status, 400) << attack << ": " << r.body;
    auto body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body["code"] == 400 && body["message"].get<std::string>().starts_with("bad path"))
        << attack << ": " << r.body;
  }
  EXPECT_EQ(metric(vixy, R"(vixy_proxy_errors_total{endpoint="cl",reason="bad_path"})"), std::size(attacks));
  EXPECT_TRUE(client_targets(cl).empty()) << client_targets(cl).front();

  auto fine = vixy.get("/cl/eth/v1/node/version");
  EXPECT_EQ(fine.status, 200) << fine.body;
  EXPECT_EQ(client_targets(cl), std::vector<std::string>{"/KEY/eth/v1/node/version"});
}

TEST(ClRequests, TheNodeUrlsQueryComesFirstAndCannotBeOverridden) {
  auto el = execution_node();
  RawNode cl(beacon_script(echo_target));
  VixyProcess vixy(raw_config(el.url(), cl.url() + "/KEY?apikey=secret"));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  auto r = vixy.get("/cl/eth/v1/events/x?apikey=evil&topics=head&APIKEY=evil2");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(client_targets(cl), std::vector<std::string>{"/KEY/eth/v1/events/x?apikey=secret&topics=head"});
}

TEST(ClRequests, TraceAndConnectAreRefusedWithoutBotheringANode) {
  auto el = execution_node();
  RawNode cl(beacon_script(echo_target));
  VixyProcess vixy(raw_config(el.url(), cl.url()));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  // Beast refuses to build a TRACE with a body, so these go as raw bytes.
  const std::string requests[] = {
      "TRACE /cl/eth/v1/node/version HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
      "TRACE /cl/eth/v1/node/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "CONNECT /cl/eth/v1/node/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  };
  for (const auto& request : requests) {
    auto r = raw_exchange(vixy.port(), request);
    EXPECT_EQ(r.status, 405) << request << "\n" << r.ec.message() << " " << r.body;
    EXPECT_EQ(r.headers["allow"], "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS") << request;
    auto body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body["code"] == 405) << r.body;
  }
  EXPECT_TRUE(client_targets(cl).empty());
  EXPECT_EQ(vixy.process().log().find("handler failed"), std::string::npos) << vixy.process().log();
  EXPECT_EQ(metric(vixy, R"(vixy_proxy_errors_total{endpoint="cl",reason="method_not_allowed"})"), 3);
}

// A client that asks for an event stream and never reads: vixy closes it once a write to it has
// waited client_write_timeout_ms, and lets go of the node's stream.
TEST(ClRequests, EventStreamClientThatStopsReadingIsClosedAndItsNodeStreamReleased) {
  auto el = execution_node();
  const std::string event = "data: " + std::string(16 * 1024, 'x') + "\n\n";
  RawNode cl(beacon_script([&event](const RawRequest&) {
    RawAnswer answer;
    answer.bytes = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::ostringstream chunk;
    chunk << std::hex << event.size() << "\r\n" << event << "\r\n";
    answer.stream = chunk.str();
    return answer;
  }));
  VixyProcess vixy(raw_config(el.url(), cl.url(), "", "[server]\nclient_write_timeout_ms = 300\n"));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();

  boost::asio::io_context io;
  boost::asio::ip::tcp::socket client(io);
  client.open(boost::asio::ip::tcp::v4());
  client.set_option(boost::asio::socket_base::receive_buffer_size(4096));
  client.connect({boost::asio::ip::make_address("127.0.0.1"), vixy.port()});
  std::string request = "GET /cl/eth/v1/events?topics=head HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
  boost::asio::write(client, boost::asio::buffer(request));

  ASSERT_TRUE(chaos::wait_until([&] { return cl.open_streams() == 1; }, seconds(5)));
  EXPECT_TRUE(chaos::wait_until([&] { return cl.open_streams() == 0; }, seconds(10)))
      << "vixy still holds the node's stream for a client that reads nothing";
  // What the client can still read ends: vixy closed the connection.
  client.non_blocking(true);
  std::array<char, 64 * 1024> sink;
  EXPECT_TRUE(chaos::wait_until(
      [&] {
        boost::system::error_code ec;
        while (!ec) client.read_some(boost::asio::buffer(sink), ec);
        return ec != boost::asio::error::would_block;
      },
      seconds(10)));
  EXPECT_TRUE(chaos::wait_until(
      [&] { return vixy.process().log().find("cl client too slow") != std::string::npos; }, seconds(5)))
      << vixy.process().log();
}

// However short the key in a node's URL, /status and the log show only scheme, host and port.
TEST(ClRequests, NodeUrlsShowOnlySchemeHostAndPort) {
  auto el = execution_node();
  RawNode cl(beacon_script(echo_target));
  std::string el_url = "http://user:pw@127.0.0.1:" + std::to_string(el.port()) + "/key/APIKEY123";
  std::string cl_url = cl.url() + "/key/APIKEY456?k=SECRET7";
  VixyProcess vixy(raw_config(el_url, cl_url));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  auto status = json::parse(vixy.get("/status").body, nullptr, false);
  EXPECT_EQ(chaos::Cluster::find_node(status, "el-raw")["http_url"],
            "http://***@127.0.0.1:" + std::to_string(el.port()) + "/***");
  EXPECT_EQ(chaos::Cluster::find_node(status, "cl-raw")["url"], "http://127.0.0.1:" + std::to_string(cl.port()) + "/***");
  for (const char* secret : {"APIKEY123", "APIKEY456", "SECRET7", "pw@"}) {
    EXPECT_EQ(status.dump().find(secret), std::string::npos) << secret;
    EXPECT_EQ(vixy.process().log().find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace vixy::testing
