// The headers vixy writes straight (http/flat_header.hpp), for a node and for a client, must be what
// Beast writes for the message the relay used to build: the client's fields with the node's
// (UpstreamPool::prepare) and Beast's framing, for any method, target, status and fields.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/flat_header.hpp"
#include "http/upstream_pool.hpp"

namespace vixy::http {
namespace {

namespace bhttp = boost::beast::http;

template <class Header>
std::string beast_text(const Header& header) {
  std::ostringstream out;
  out << header;
  return out.str();
}

rc::Gen<std::string> gen_token(const std::string& alphabet) {
  return rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(alphabet)));
}

// Fields as a client's request or a node's answer may carry them, hop-by-hop ones included.
void add_message_fields(bhttp::fields& fields) {
  const auto count = *rc::gen::inRange(0, 8);
  for (int i = 0; i < count; ++i) {
    const auto name = *rc::gen::oneOf(
        rc::gen::element<std::string>("Content-Type", "Content-Length", "Connection", "Transfer-Encoding", "Host",
                                      "Authorization", "User-Agent", "Keep-Alive", "Server", "X-Node"),
        gen_token("abcXYZ-_09"));
    fields.insert(name, *rc::gen::container<std::string>(rc::gen::elementOf(std::string("a Z0;=,/\"\t:"))));
  }
}

RC_GTEST_PROP(FlatHeader, ANodeGetsTheRequestTheRelayUsedToBuild, ()) {
  // The client's request as a handler passes it on: hop-by-hop fields removed.
  bhttp::request_header<> client;
  add_message_fields(client);
  bhttp::request_header<> header;
  header.method(*rc::gen::element(bhttp::verb::get, bhttp::verb::post, bhttp::verb::head, bhttp::verb::put,
                                  bhttp::verb::options, bhttp::verb::delete_));
  for (const auto& field : client) {
    if (!is_hop_by_hop(field.name())) header.insert(field.name_string(), field.value());
  }
  const auto target = *gen_token("/abc?=&%09");
  const auto body = *rc::gen::element<std::string>("", "{}", std::string(70000, 'x'));
  const auto url = *rc::gen::element<std::string>("http://127.0.0.1:8545", "https://user:pw@node.example/rpc",
                                                  "http://node.example:80");
  boost::asio::io_context io;
  boost::asio::ssl::context tls(boost::asio::ssl::context::tls_client);
  UpstreamPool pool(io.get_executor(), tls, *net::parse_upstream_url(url), std::chrono::seconds(1));

  // What relay() did before: the message with the node's fields, kept alive, framed by Beast.
  bhttp::request<bhttp::string_body> message{header.method(), target, 11};
  for (const auto& field : header) message.insert(field.name_string(), field.value());
  message.body() = body;
  pool.prepare(message);
  message.keep_alive(true);
  message.prepare_payload();

  std::string written = "stale text";
  flat_node_request(written, header, target, pool.node_fields(), body.size());
  RC_ASSERT(written == beast_text(message.base()));
}

RC_GTEST_PROP(FlatHeader, AClientGetsTheNodesAnswerHeaderTheRelayUsedToBuild, ()) {
  bhttp::response_header<> node;
  node.version(*rc::gen::element(10u, 11u));
  node.result(*rc::gen::inRange(200u, 600u));
  if (*rc::gen::arbitrary<bool>()) node.reason(*gen_token("Ok Nt"));  // a node's own reason is not passed on
  add_message_fields(node);
  const bool keep_alive = *rc::gen::arbitrary<bool>();
  const auto length = *rc::gen::element<std::uint64_t>(0, 17, 1u << 20);

  // What relay() did before: a response with the node's status and end-to-end fields, framed anew.
  bhttp::response<bhttp::string_body> message;
  message.result(node.result_int());
  message.version(11);
  for (const auto& field : node) {
    if (!is_hop_by_hop(field.name())) message.insert(field.name_string(), field.value());
  }
  message.keep_alive(keep_alive);
  message.content_length(length);

  std::string written = "stale text";
  flat_client_header(written, node, keep_alive, length);
  RC_ASSERT(written == beast_text(message.base()));
}

}  // namespace
}  // namespace vixy::http
