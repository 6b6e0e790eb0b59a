// The HTTP request path without sockets: the bytes a client sends on one connection go through
// Beast's request parser as the server sets it up (net/http_server.cpp: one parser per request,
// keep-alive, body and header limits), and every POST /el request through what the EL handler
// does before any node is contacted (http/el_handler.cpp: the body check, the error answers built
// from the text). Every answer must be a well-formed response whose body is a JSON-RPC error
// document with the request's ids.
//
// The server's own code is coroutines over sockets, so the few lines that turn a parse outcome
// into a response are restated here; what is under test (Beast's parser with the server's limits,
// jsonrpc::inspect_request_body, jsonrpc::error_text, jsonrpc::error_for_each) is called as it is.
#ifdef BOOST_BEAST_SEPARATE_COMPILATION
#error "this target uses Beast header-only: it must not see the proxy library's compile definitions"
#endif

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::fuzz {
namespace {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using jsonrpc::json;

// The server's limits are configuration (max_body_size) and a 16 KiB header bound; smaller ones
// here put both refusals within the inputs' reach.
constexpr std::uint64_t kBodyLimit = 2048;
constexpr std::uint32_t kHeaderLimit = 1024;

// net::make_response, restated: status, content type, keep-alive from the request, length.
Response make_response(unsigned version, bool keep_alive, http::status status, std::string body) {
  Response response{status, version};
  response.set(http::field::server, "vixy");
  response.set(http::field::content_type, "application/json");
  response.keep_alive(keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// One JSON-RPC error object as the proxy answers: the id (null, a number or a string) and an
// error with an integer code and a string message, nothing else.
void check_error_object(const json& answer, const json& expected_id) {
  VIXY_FUZZ_CHECK(answer.is_object(), "answer is not an object");
  VIXY_FUZZ_CHECK(answer.value("jsonrpc", "") == "2.0", "answer without \"jsonrpc\":\"2.0\"");
  VIXY_FUZZ_CHECK(answer.contains("id") && answer["id"] == expected_id, "answer's id is not the request's");
  VIXY_FUZZ_CHECK(!answer.contains("result"), "error answer with a result");
  const auto error = answer.find("error");
  VIXY_FUZZ_CHECK(error != answer.end() && error->is_object(), "answer without an error object");
  VIXY_FUZZ_CHECK(error->contains("code") && (*error)["code"].is_number_integer(), "error code is not an integer");
  VIXY_FUZZ_CHECK(error->contains("message") && (*error)["message"].is_string() &&
                      !(*error)["message"].get_ref<const std::string&>().empty(),
                  "error message is not a non-empty string");
}

// A response the proxy sends: a status, the length of its body, and a body that is a JSON-RPC
// error document answering `request` (nullopt: not a request at all, one error with a null id).
void check_response(const Response& response, const std::optional<json>& request) {
  VIXY_FUZZ_CHECK(static_cast<unsigned>(response.result()) >= 400 &&
                      static_cast<unsigned>(response.result()) < 600 &&
                      response.result() != http::status::unknown,
                  "error answer without an error status");
  const auto& body = response.body();
  VIXY_FUZZ_CHECK(response[http::field::content_length] == std::to_string(body.size()),
                  "Content-Length is not the body's length");
  VIXY_FUZZ_CHECK(jsonrpc::raw::valid(body), "the proxy's own scan refuses the answer body");
  const auto document = jsonrpc::parse(body);
  VIXY_FUZZ_CHECK(document.has_value(), "answer body is not JSON");

  if (!request || !(request->is_array() && !request->empty())) {
    // A single request (or no request): one error object, with the request's id when it has one.
    json id = nullptr;
    if (request && request->is_object() && request->contains("id")) id = (*request)["id"];
    return check_error_object(*document, id);
  }
  // A batch: one error per element that expects an answer (requests with an id, and elements that
  // are no request object at all, answered with a null id), in order.
  VIXY_FUZZ_CHECK(document->is_array(), "a batch answered with something other than an array");
  std::size_t next = 0;
  for (const auto& element : *request) {
    json id = nullptr;
    if (element.is_object()) {
      if (!element.contains("id")) continue;  // a notification gets no answer
      id = element["id"];
    }
    VIXY_FUZZ_CHECK(next < document->size(), "a batch answer misses a request");
    check_error_object((*document)[next++], id);
  }
  VIXY_FUZZ_CHECK(next == document->size(), "a batch answer has more answers than requests");
}

// What ElHandler::handle answers before contacting a node, for each outcome of the body check, with the
// default limits of [global] (max_json_depth, max_batch_size).
void answer_el(const Request& request) {
  const bool keep_alive = request.keep_alive();
  const std::string_view body = request.body();
  const auto shape = jsonrpc::inspect_request_body(body);
  using Kind = jsonrpc::RequestShape::Kind;
  if (shape.kind == Kind::parse_error) {
    auto error = jsonrpc::error_text("null", jsonrpc::kParseError, "parse error: " + shape.problem);
    check_response(make_response(request.version(), keep_alive, http::status::bad_request, error), std::nullopt);
    return;
  }
  if (shape.kind == Kind::invalid_request) {
    // One error, or one per batch entry that is answered; each under an id a client may use.
    const auto response = make_response(request.version(), keep_alive, http::status::bad_request, shape.answer);
    const auto document = jsonrpc::parse(response.body());
    VIXY_FUZZ_CHECK(document.has_value(), "a refusal that is not JSON");
    const auto check_one = [](const json& answer) {
      VIXY_FUZZ_CHECK(answer.is_object() && answer.contains("id") &&
                          (answer["id"].is_null() || answer["id"].is_number() || answer["id"].is_string()),
                      "a refusal whose id no request may have");
      check_error_object(answer, answer["id"]);
    };
    if (document->is_array()) {
      VIXY_FUZZ_CHECK(!document->empty(), "an empty batch of refusals");
      for (const auto& answer : *document) check_one(answer);
    } else {
      check_one(*document);
    }
    return;
  }
  // Past the checks the body nests no deeper than the limit, so a tree of it may be made here to
  // compare with.
  const auto tree = jsonrpc::parse(body);
  VIXY_FUZZ_CHECK(tree.has_value(), "the scan accepted a body the parser refuses");
  VIXY_FUZZ_CHECK(shape.count == (tree->is_array() ? tree->size() : 1U), "request count is not the tree's");
  // No healthy node (503), timeout (504) and every node failed (502) answer alike: one error per
  // request, and nothing at all for a batch of notifications.
  auto errors = jsonrpc::error_for_each(body, jsonrpc::kServerError, "no healthy EL node available");
  if (errors.empty()) {
    bool notifications_only = tree->is_array();
    for (const auto& element : *tree) notifications_only = notifications_only && element.is_object() && !element.contains("id");
    VIXY_FUZZ_CHECK(notifications_only, "no answer for a body that has requests");
    return;
  }
  check_response(make_response(request.version(), keep_alive, http::status::service_unavailable, errors), tree);
}

// net::make_jsonrpc_error_response for a request the server could not read.
void answer_unreadable(http::status status, std::string message) {
  auto error = jsonrpc::error_text("null", jsonrpc::kInvalidRequest, message);
  check_response(make_response(11, false, status, error), std::nullopt);
}

}  // namespace
}  // namespace vixy::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vixy::fuzz;
  namespace beast = boost::beast;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  // One request after another on one connection, as long as each asks for keep-alive.
  while (!rest.empty()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    parser.eager(true);
    beast::error_code ec;
    while (!parser.is_done()) {
      if (rest.empty()) {
        parser.put_eof(ec);  // the client closed the connection
        break;
      }
      const auto used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      VIXY_FUZZ_CHECK(used <= rest.size(), "the parser used more bytes than it was given");
      rest.remove_prefix(used);
      if (ec == http::error::need_more && used > 0) {
        ec = {};
      } else if (ec == http::error::need_more) {
        parser.put_eof(ec);  // the header is not complete in all the bytes the client sent
        break;
      } else if (ec) {
        break;
      }
    }
    if (ec == http::error::body_limit) {
      answer_unreadable(http::status::payload_too_large, "request body exceeds max_body_size");
      return 0;
    }
    if (ec == http::error::header_limit) {
      answer_unreadable(http::status::request_header_fields_too_large, "request headers too large");
      return 0;
    }
    if (ec) {
      // The server answers a malformed request with 400 and ends the connection; a connection that
      // ends early just ends.
      if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        answer_unreadable(http::status::bad_request, "malformed HTTP request: " + ec.message());
      }
      return 0;
    }
    VIXY_FUZZ_CHECK(parser.is_done(), "no error and no request");
    Request request = parser.release();
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    if ((path == "/el" || path == "/el/") && request.method() == http::verb::post) answer_el(request);
    if (!request.keep_alive()) break;
  }
  return 0;
}
