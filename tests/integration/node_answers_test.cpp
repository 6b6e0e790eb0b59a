// Node answers that no well-behaved server sends, through the real vixy binary: interim (1xx)
// answers, bytes after the answer, a protocol switch vixy never asked for, broken framing. Each
// client must get its own node answer or a clear error, never another client's.
#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/raw_node.hpp"

namespace vixy::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr const char* kEarlyHints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
constexpr const char* kSmuggled = "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"smuggled\":true}";

// Every answer of `script`, health checks included, with `prefix` written first.
RawNode::Script prefixed(std::string prefix, RawNode::Script script) {
  return [prefix = std::move(prefix), script = std::move(script)](const RawRequest& request) {
    RawAnswer answer = script(request);
    answer.bytes = prefix + answer.bytes;
    return answer;
  };
}

// An execution node whose other answers carry the request's id and a result naming it.
RawAnswer echo_id(const RawRequest& request) {
  auto call = json::parse(request.body, nullptr, false);
  json id = call.is_object() ? call["id"] : json(nullptr);
  json answer{{"jsonrpc", "2.0"}, {"id", id}, {"result", "answer-" + id.dump()}};
  return RawAnswer{raw_response(200, answer.dump())};
}

RawNode plain_execution_node() { return RawNode(execution_script(echo_id)); }

// Clients one after another, each on its own connection to vixy (which keeps its own to the node).
void expect_beacon_clients_get_their_own_answers(VixyProcess& vixy, int clients) {
  for (int i = 0; i < clients; ++i) {
    std::string path = "/vixy/echo/" + std::to_string(i);
    auto r = vixy.get("/cl" + path);
    EXPECT_EQ(r.status, 200) << "client " << i << ": " << r.body;
    auto body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body["data"]["target"] == path) << "client " << i << " got " << r.body;
  }
}

void expect_execution_clients_get_their_own_answers(VixyProcess& vixy, int clients) {
  for (int i = 0; i < clients; ++i) {
    auto r = chaos::post_json("127.0.0.1", vixy.port(), "/el", rpc(i, "eth_chainId"));
    EXPECT_EQ(r.status, 200) << "client " << i << ": " << r.body;
    auto body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body["id"] == i && body["result"] == "answer-" + std::to_string(i))
        << "client " << i << " got " << r.body;
    EXPECT_EQ(r.headers.count("link"), 0u) << "an interim answer's field reached the client";
  }
}

TEST(NodeAnswers, ContinueBeforeEveryBeaconAnswerStaysWithItsExchange) {
  auto el = plain_execution_node();
  RawNode cl(prefixed(kContinue, beacon_script(echo_target)));
  VixyProcess vixy(raw_config(el.url(), cl.url()));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  expect_beacon_clients_get_their_own_answers(vixy, 20);
}

TEST(NodeAnswers, ContinueBeforeEveryExecutionAnswerStaysWithItsExchange) {
  RawNode el(prefixed(kContinue, execution_script(echo_id)));
  VixyProcess vixy(raw_config(el.url(), ""));
  ASSERT_TRUE(vixy.wait_healthy("el-raw")) << vixy.process().log();
  expect_execution_clients_get_their_own_answers(vixy, 20);
}

TEST(NodeAnswers, EarlyHintsAreDroppedAndTheFinalAnswerRelayed) {
  RawNode el(prefixed(kEarlyHints, execution_script(echo_id)));
  RawNode cl(prefixed(kEarlyHints, beacon_script(echo_target)));
  VixyProcess vixy(raw_config(el.url(), cl.url()));
  ASSERT_TRUE(vixy.wait_healthy("el-raw")) << vixy.process().log();
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  expect_execution_clients_get_their_own_answers(vixy, 5);
  expect_beacon_clients_get_their_own_answers(vixy, 5);
}

TEST(NodeAnswers, SeveralInterimAnswersBeforeTheFinalOneAreAccepted) {
  auto el = plain_execution_node();
  RawNode cl(prefixed(std::string(kContinue) + kEarlyHints + kEarlyHints, beacon_script(echo_target)));
  VixyProcess vixy(raw_config(el.url(), cl.url()));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  expect_beacon_clients_get_their_own_answers(vixy, 5);
}

// Bytes after a complete answer (here: a whole second answer) must never become the next client's.
TEST(NodeAnswers, BytesAfterAnAnswerNeverReachTheNextClient) {
  auto el = plain_execution_node();
  RawNode cl(beacon_script([](const RawRequest& request) {
    RawAnswer answer = echo_target(request);
    answer.bytes += kSmuggled;
    return answer;
  }));
  VixyProcess vixy(raw_config(el.url(), cl.url()));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  expect_beacon_clients_get_their_own_answers(vixy, 10);
}

// The same when the extra bytes come only after vixy has read the answer and pooled the connection.
TEST(NodeAnswers, BytesArrivingOnAnIdleConnectionNeverReachTheNextClient) {
  auto el = plain_execution_node();
  RawNode cl(beacon_script([](const RawRequest& request) {
    RawAnswer answer = echo_target(request);
    answer.later = kSmuggled;
    answer.later_after = std::chrono::milliseconds(50);
    return answer;
  }));
  VixyProcess vixy(raw_config(el.url(), cl.url()));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  for (int i = 0; i < 5; ++i) {
    std::string path = "/vixy/echo/" + std::to_string(i);
    auto r = vixy.get("/cl" + path);
    auto body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(r.status == 200 && body.is_object() && body["data"]["target"] == path)
        << "client " << i << " got " << r.status << " " << r.body;
    // The junk is on the (now idle) pooled connection before the next client comes.
    ASSERT_TRUE(chaos::wait_until([&] { return cl.later_written() > static_cast<std::size_t>(i); }, seconds(5)));
  }
}

// vixy never asks a node to switch protocols: a 101 fails the exchange instead of being relayed.
TEST(NodeAnswers, UnaskedProtocolSwitchIsAFailedExchange) {
  RawNode el(execution_script([](const RawRequest&) {
    return RawAnswer{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi"};
  }));
  VixyProcess vixy(raw_config(el.url(), ""));
  ASSERT_TRUE(vixy.wait_healthy("el-raw")) << vixy.process().log();
  auto r = chaos::post_json("127.0.0.1", vixy.port(), "/el", rpc(7, "eth_chainId"));
  EXPECT_EQ(r.status, 502) << r.body;
  auto body = json::parse(r.body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body["id"] == 7 && body["error"]["code"] == -32000) << r.body;
}

// A node that keeps sending 1xx answers: the client gets an error long before proxy_timeout_ms.
TEST(NodeAnswers, EndlessInterimAnswersFailTheExchangeAtOnce) {
  auto el = plain_execution_node();
  std::string endless;
  for (int i = 0; i < 500; ++i) endless += kContinue;
  RawNode cl(beacon_script([endless](const RawRequest&) { return RawAnswer{endless}; }));
  VixyProcess vixy(raw_config(el.url(), cl.url(), "proxy_timeout_ms = 60000\nmax_retries = 0\n"));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  auto r = chaos::get("127.0.0.1", vixy.port(), "/cl/vixy/x", seconds(5));
  EXPECT_EQ(r.status, 502) << r.ec.message() << " " << r.body;
  EXPECT_EQ(json::parse(r.body, nullptr, false)["code"], 502) << r.body;
}

// Answers Beast refuses to parse (conflicting framing, a header past the limit, a body on a 1xx)
// are failed exchanges; the connection is dropped, and the next client is served normally.
TEST(NodeAnswers, MalformedAnswersFailTheirExchangeOnly) {
  auto el = plain_execution_node();
  RawNode cl(beacon_script([](const RawRequest& request) {
    if (request.target == "/vixy/both") {
      return RawAnswer{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n0\r\n\r\n"};
    }
    if (request.target == "/vixy/huge") {
      return RawAnswer{raw_response(200, "{}", "X-Huge: " + std::string(100 * 1024, 'a') + "\r\n")};
    }
    if (request.target == "/vixy/interim-body") {
      return RawAnswer{"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhello" + raw_response(200, "{}")};
    }
    return echo_target(request);
  }));
  VixyProcess vixy(raw_config(el.url(), cl.url(), "max_retries = 0\n"));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  for (const char* bad : {"/vixy/both", "/vixy/huge", "/vixy/interim-body"}) {
    auto r = vixy.get(std::string("/cl") + bad);
    EXPECT_EQ(r.status, 502) << bad << ": " << r.body;
    expect_beacon_clients_get_their_own_answers(vixy, 2);
  }
  EXPECT_TRUE(vixy.process().running());
}

// Beast bounds a node's header, but not a chunk line: one that never ends must not make vixy hold
// ever more of it until proxy_timeout_ms.
TEST(NodeAnswers, EndlessChunkLineIsCutOff) {
  auto el = plain_execution_node();
  RawNode cl(beacon_script([](const RawRequest&) {
    RawAnswer answer;
    answer.bytes = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=";
    answer.stream = std::string(16 * 1024, 'a');
    return answer;
  }));
  VixyProcess vixy(raw_config(el.url(), cl.url(), "proxy_timeout_ms = 60000\nmax_retries = 0\n"));
  ASSERT_TRUE(vixy.wait_healthy("cl-raw")) << vixy.process().log();
  auto r = chaos::get("127.0.0.1", vixy.port(), "/cl/vixy/x", seconds(10));
  // The node's header had come, so vixy can only end the client's connection.
  EXPECT_TRUE(r.ec.failed()) << r.status << " " << r.body;
  EXPECT_TRUE(chaos::wait_until([&] { return cl.open_streams() == 0; }, seconds(5)));
  EXPECT_TRUE(vixy.process().running());
}

}  // namespace
}  // namespace vixy::testing
