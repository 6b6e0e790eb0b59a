// HttpServer against raw bytes: Expect: 100-continue, transfer codings and ambiguous framing
// (RFC 9112 §6), and clients that send or read too slowly.
#include <gtest/gtest.h>

#include "http_server_fixture.hpp"

namespace vixy::testing {
namespace {

using namespace std::chrono_literals;

// A server and one raw client connected to it.
class RawExchange {
 public:
  explicit RawExchange(net::ServerLimits limits = {}) : server(limits) {
    server.start();
    if (auto ec = client.connect(server.port())) throw std::runtime_error("connect: " + ec.message());
  }
  // Sends the bytes and reads one answer.
  std::optional<RawResponse> send(const std::string& bytes, std::chrono::milliseconds timeout = 5s) {
    client.send(bytes);
    return read_response(client, timeout);
  }
  // The server ended the connection (EOF or reset) within the timeout, rather than staying silent.
  bool ends(std::chrono::milliseconds timeout = 2s) {
    auto next = client.next(timeout);
    return next == RawClient::End::eof || next == RawClient::End::reset;
  }

  ServerUnderTest server;
  RawClient client;
};

net::ServerLimits with_idle_timeout(std::chrono::milliseconds timeout) {
  net::ServerLimits limits;
  limits.idle_timeout = timeout;
  return limits;
}

TEST(HttpServerExpect, AnswersContinueBeforeTheBodyArrives) {
  RawExchange x;
  std::string body(2000, 'b');
  auto interim = x.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n", 2s);
  ASSERT_TRUE(interim) << "no 100 Continue: the client would wait for its own timeout";
  EXPECT_EQ(interim->status, 100);
  auto answer = x.send(body);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, body);
}

TEST(HttpServerExpect, RefusesATooLargeBodyAtOnceWithoutContinue) {
  net::ServerLimits limits;
  limits.max_body_size = 1000;
  RawExchange x(limits);
  auto answer = x.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n", 2s);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 413);
  EXPECT_TRUE(x.ends());
}

TEST(HttpServerExpect, AnswersAnUnknownExpectationWith417) {
  RawExchange x;
  auto answer = x.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\n", 2s);
  ASSERT_TRUE(answer) << "the server waited for a body the client will not send";
  EXPECT_EQ(answer->status, 417);
  EXPECT_NE(answer->body.find("something-else"), std::string::npos) << answer->body;
  EXPECT_TRUE(x.ends());
}

TEST(HttpServerExpect, ARequestWithoutBodyIsAnsweredDirectly) {
  RawExchange x;
  auto answer = x.send("GET /health HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
}

TEST(HttpServerExpect, ABodyThatAlreadyArrivedNeedsNoContinue) {
  RawExchange x;
  auto answer = x.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "abc");
}

TEST(HttpServerTransferEncoding, AnUnknownCodingIs501AndItsBytesAreNeverARequest) {
  RawExchange x;
  // Read as "no body", the second request would be served: a smuggled request.
  auto answer = x.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"
                       "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 501);
  EXPECT_EQ(answer->header("connection"), "close");
  EXPECT_TRUE(x.ends()) << "a second answer came: the body was read as a request";
}

TEST(HttpServerTransferEncoding, ChunkedAfterAnotherCodingOrInTwoFieldsIs501) {
  for (std::string fields : {"Transfer-Encoding: gzip, chunked\r\n",
                             "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"}) {
    SCOPED_TRACE(fields);
    RawExchange x;
    auto answer = x.send("POST /echo HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n3\r\nabc\r\n0\r\n\r\n");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 501);
  }
}

TEST(HttpServerTransferEncoding, WithContentLengthIs400InEitherOrder) {
  for (std::string fields : {"Transfer-Encoding: gzip\r\nContent-Length: 3\r\n",
                             "Content-Length: 3\r\nTransfer-Encoding: gzip\r\n",
                             "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                             "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"}) {
    SCOPED_TRACE(fields);
    RawExchange x;
    auto answer = x.send("POST /echo HTTP/1.1\r\nHost: t\r\n" + fields + "\r\nabc");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400);
    EXPECT_TRUE(x.ends());
  }
}

TEST(HttpServerTransferEncoding, InHttp10Is400) {
  RawExchange x;
  auto answer = x.send("POST /echo HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400);
}

TEST(HttpServerTransferEncoding, ChunkedAloneIsDecoded) {
  RawExchange x;
  auto answer = x.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "abcde");
}

TEST(HttpServerSlowClients, AHeaderTrickledByteByByteIsCutOffByTheIdleTimeout) {
  RawExchange x(with_idle_timeout(300ms));
  x.client.send("GET /health HTTP/1.1\r\n");
  // A byte every 50 ms keeps every single read short: only a bound on the whole header ends it.
  auto started = Clock::now();
  bool ended = false;
  while (!ended && Clock::now() - started < 5s) {
    try {
      x.client.send("X");
    } catch (const std::exception&) {
      ended = true;
      break;
    }
    ended = x.ends(50ms);
  }
  EXPECT_TRUE(ended);
  EXPECT_LT(Clock::now() - started, 2s);
}

TEST(HttpServerSlowClients, ABodyTrickledAfterALongIdleGetsItsOwnBudget) {
  RawExchange x(with_idle_timeout(600ms));
  // The client idles most of the budget before it starts, then sends its body in two parts: the
  // body is not cut off by the time the client spent idle.
  ASSERT_EQ(x.client.next(400ms), RawClient::End::silence);
  x.client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab");
  ASSERT_EQ(x.client.next(350ms), RawClient::End::silence);
  auto answer = x.send("cd");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->body, "abcd");
}

// Beast 1.81 applies header_limit to the part of a header it has not parsed yet, and the server
// reads a few KiB at a time, so a header of many short fields passed the limit many times over
// (160 KB through vixy's 16 KiB, each field costing memory until the 60 s header deadline).
TEST(HttpServerHeaderLimit, AHeaderOfManyShortFieldsIsRefusedPastTheLimit) {
  RawExchange x;  // the default limit, 16 KiB
  std::string fields;
  for (int i = 0; i < 10'000; ++i) fields += "X-A: b\r\n";  // 80,000 bytes
  auto answer = x.send("GET /health HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 431);
  EXPECT_TRUE(x.ends());
  // At the limit a header still goes through.
  RawExchange y;
  auto at_limit = y.send("GET /health HTTP/1.1\r\nHost: t\r\n" + fields.substr(0, 16'000) + "\r\n");
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 200);
}

TEST(HttpServerSlowClients, AClientThatNeverReadsItsAnswerIsClosedByTheWriteTimeout) {
  net::ServerLimits limits;
  limits.write_timeout = 300ms;
  RawExchange x(limits);
  x.client.send("GET /big?67108864 HTTP/1.1\r\nHost: t\r\n\r\n");
  // The client reads nothing: once the socket buffers are full the write stalls, and the
  // connection must end within the write timeout instead of holding 64 MiB forever.
  ASSERT_TRUE(chaos::wait_until([&] { return x.server.connection_count() == 1; }, 2s));
  EXPECT_TRUE(chaos::wait_until([&] { return x.server.connection_count() == 0; }, 3s));
}

}  // namespace
}  // namespace vixy::testing
