#include "fakenodes/cl_node.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstdio>
#include <set>

#include "log/log.hpp"
#include "text/ascii.hpp"
#include "net/awaitable.hpp"

namespace vixy::fakenodes {
namespace {

using namespace asio::experimental::awaitable_operators;
using ordered_json = nlohmann::ordered_json;

// Topics a beacon node accepts on /eth/v1/events; this node only ever emits "head".
const std::set<std::string, std::less<>>& known_topics() {
  static const std::set<std::string, std::less<>> topics = {"head",
                                                            "block",
                                                            "attestation",
                                                            "voluntary_exit",
                                                            "finalized_checkpoint",
                                                            "chain_reorg",
                                                            "contribution_and_proof",
                                                            "light_client_finality_update",
                                                            "light_client_optimistic_update",
                                                            "payload_attributes",
                                                            "blob_sidecar",
                                                            "bls_to_execution_change"};
  return topics;
}

const std::set<std::string, std::less<>>& beacon_paths() {
  static const std::set<std::string, std::less<>> paths = {"/eth/v1/node/health", "/eth/v1/node/syncing",
                                                           "/eth/v1/node/version",
                                                           "/eth/v1/beacon/headers/head", "/eth/v1/events"};
  return paths;
}

Response json_error(const Request& request, http::status status, const std::string& message) {
  ordered_json body{{"code", static_cast<unsigned>(status)}, {"message", message}};
  return net::make_response(request, status, body.dump());
}

Response empty_response(const Request& request, http::status status) {
  Response response = net::make_response(request, status, "");
  response.erase(http::field::content_type);
  return response;
}

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

// Completes when the client closes its side (or the connection is closed under it).
asio::awaitable<void> client_leaves(HttpConnection& connection) {
  char scratch[1024];
  for (;;) {
    auto [ec, n] = co_await connection.stream().async_read_some(asio::buffer(scratch), use_tuple);
    (void)n;
    if (ec) co_return;
  }
}

}  // namespace

std::shared_ptr<ClNode> ClNode::create(asio::any_io_executor executor, NodeOptions options) {
  options.kind = NodeKind::cl;
  return std::make_shared<ClNode>(std::move(executor), std::move(options));
}

ClNode::ClNode(asio::any_io_executor executor, NodeOptions options)
    : FakeNode(executor, std::move(options)), new_slot_(executor, asio::steady_timer::time_point::max()) {}

std::string ClNode::head_header(std::uint64_t slot) const {
  std::string signature = chain().beacon_root("signature-0", slot) +
                          chain().beacon_root("signature-1", slot).substr(2) +
                          chain().beacon_root("signature-2", slot).substr(2);
  ordered_json message{{"slot", std::to_string(slot)},
                       {"proposer_index", std::to_string(slot % 1'000'000)},
                       {"parent_root", chain().beacon_root("block", slot == 0 ? 0 : slot - 1)},
                       {"state_root", chain().beacon_root("state", slot)},
                       {"body_root", chain().beacon_root("body", slot)}};
  ordered_json body{{"execution_optimistic", false},
                    {"finalized", false},
                    {"data",
                     {{"root", chain().beacon_root("block", slot)},
                      {"canonical", true},
                      {"header", {{"message", std::move(message)}, {"signature", signature}}}}}};
  return body.dump();
}

std::string ClNode::head_event(std::uint64_t slot) const {
  ordered_json data{{"slot", std::to_string(slot)},
                    {"block", chain().beacon_root("block", slot)},
                    {"state", chain().beacon_root("state", slot)},
                    {"epoch_transition", false},
                    {"previous_duty_dependent_root", chain().beacon_root("duty-previous", slot / 32)},
                    {"current_duty_dependent_root", chain().beacon_root("duty-current", slot / 32)},
                    {"execution_optimistic", false}};
  return "event: head\ndata: " + data.dump() + "\n\n";
}

namespace {
Response echo_response(const Request& request) {
  ordered_json headers = ordered_json::object();
  for (const auto& field : request) {
    std::string name = text::lowercase(field.name_string());
    std::string value(field.value());
    if (headers.contains(name)) value = headers[name].get<std::string>() + ", " + value;
    headers[name] = value;
  }
  ordered_json body{{"method", std::string(request.method_string())},
                    {"target", std::string(request.target())},
                    {"headers", std::move(headers)},
                    {"body", request.body()}};
  return net::make_response(request, http::status::ok, body.dump());
}
}  // namespace

std::optional<Response> ClNode::rest_response(const Request& request, std::string_view path) const {
  if (path == "/vixy-test/echo") return echo_response(request);
  if (!beacon_paths().contains(path)) {
    return json_error(request, http::status::not_found, "NOT_FOUND: " + std::string(path));
  }
  if (request.method() != http::verb::get) {
    return json_error(request, http::status::method_not_allowed, "use GET " + std::string(path));
  }
  const std::uint64_t slot = head();
  if (path == "/eth/v1/node/health") {
    auto status = !healthy()  ? http::status::service_unavailable
                  : syncing() ? http::status::partial_content
                              : http::status::ok;
    return empty_response(request, status);
  }
  if (path == "/eth/v1/node/syncing") {
    std::uint64_t distance = syncing() ? std::max<std::uint64_t>(lag(), 1) : 0;
    ordered_json body{{"data",
                       {{"head_slot", std::to_string(slot)},
                        {"sync_distance", std::to_string(distance)},
                        {"is_syncing", syncing()},
                        {"is_optimistic", false},
                        {"el_offline", false}}}};
    return net::make_response(request, http::status::ok, body.dump());
  }
  if (path == "/eth/v1/node/version") {
    ordered_json body{{"data", {{"version", version_string()}}}};
    return net::make_response(request, http::status::ok, body.dump());
  }
  if (path == "/eth/v1/beacon/headers/head") {
    return net::make_response(request, http::status::ok, head_header(slot));
  }
  return std::nullopt;  // /eth/v1/events: a stream, not a response
}

asio::awaitable<void> ClNode::handle(HttpConnection& connection, Request& request) {
  auto self = shared_from_this();  // the node outlives this request
  if (silent()) {
    co_await drain_silently(connection);
    co_return;
  }
  std::string_view target = request.target();
  std::string path(target.substr(0, target.find('?')));
  if (const auto* override = find_override(path)) {
    co_await sleep(override->delay);
    if (override->http_status) {
      Response response =
          json_error(request, static_cast<http::status>(*override->http_status), "injected error");
      co_await connection.respond(std::move(response));
      co_return;
    }
  }
  // Built outside the co_await: GCC 12 may destroy temporaries of a co_await expression twice.
  std::optional<Response> response = rest_response(request, path);
  if (response) {
    co_await connection.respond(std::move(*response));
  } else {
    co_await serve_events(connection, request);
  }
}

asio::awaitable<void> ClNode::serve_events(HttpConnection& connection, Request& request) {
  auto self = shared_from_this();
  auto url = boost::urls::parse_origin_form(request.target());
  std::vector<std::string> topics;
  if (url) {
    for (auto param : url->params()) {
      if (param.key != "topics") continue;
      std::string_view list = param.value;
      while (!list.empty()) {
        auto comma = list.find(',');
        std::string topic(list.substr(0, comma));
        if (!topic.empty()) topics.push_back(topic);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
    }
  }
  std::string problem = topics.empty() ? "missing topics" : "";
  for (const auto& topic : topics) {
    if (!known_topics().contains(topic)) problem = "unknown topic " + topic;
  }
  if (!problem.empty()) {
    Response response = json_error(request, http::status::bad_request, problem);
    co_await connection.respond(std::move(response));
    co_return;
  }
  const bool wants_heads = std::find(topics.begin(), topics.end(), "head") != topics.end();

  connection.take_over();
  static const std::string header =
      "HTTP/1.1 200 OK\r\nServer: vixy-fakenode\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto [ec, n] = co_await asio::async_write(connection.stream(), asio::buffer(header), use_tuple);
  (void)n;
  if (ec) co_return;

  event_streams_.insert(&connection);
  struct Unregister {
    ClNode* node;
    HttpConnection* connection;
    ~Unregister() { node->event_streams_.erase(connection); }
  } unregister{this, &connection};

  auto stream_heads = [](ClNode* node, HttpConnection& conn, bool heads) -> asio::awaitable<void> {
    std::uint64_t sent = node->announced_head();
    while (!node->stopped()) {
      while (sent < node->announced_head()) {
        ++sent;
        if (!heads || node->silent()) continue;
        std::string event = chunk(node->head_event(sent));
        auto [write_ec, written] = co_await asio::async_write(conn.stream(), asio::buffer(event), use_tuple);
        (void)written;
        if (write_ec) co_return;
      }
      co_await node->new_slot_.async_wait(use_tuple);
    }
  };
  co_await (stream_heads(this, connection, wants_heads) || client_leaves(connection));
  connection.close();
}

void ClNode::on_new_head(std::uint64_t /*slot*/) { new_slot_.cancel(); }

void ClNode::on_stop() { new_slot_.cancel(); }

void ClNode::drop_subscriptions() {
  for (HttpConnection* connection : event_streams_) connection->close();
}

}  // namespace vixy::fakenodes
