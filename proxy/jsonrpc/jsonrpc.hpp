#pragma once
// The one JSON-RPC 2.0 codec of the tree: the proxy, the fake nodes and the harness all build and
// read messages through it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jsonrpc/raw.hpp"
#include "text/result.hpp"

namespace vixy::jsonrpc {

using json = nlohmann::json;

// Standard error codes (JSON-RPC 2.0 and the Ethereum conventions on top of it).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kServerError = -32000;  // generic implementation-defined error
inline constexpr int kLimitExceeded = -32005;  // EIP-1474: a limit of the proxy's, HTTP and WebSocket alike

// Parses text as JSON; nullopt when it is not valid JSON or nests deeper than `max_depth` (checked
// by raw::check first: a tree is copied and printed recursively, so no unbounded tree is built).
// Never throws.
std::optional<json> parse(std::string_view text, std::size_t max_depth = raw::kDefaultMaxDepth);

// {"jsonrpc":"2.0","id":<id>,"result":<result>}
json make_result(const json& id, json result);
// {"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":..[,"data":..]}}
json make_error(const json& id, int code, std::string_view message, const json* data = nullptr);
// {"jsonrpc":"2.0","id":<id>,"method":..,"params":..}
json make_request(const json& id, std::string_view method, json params = json::array());
// {"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":..,"result":..}}
json make_notification(std::string_view subscription_id, json result);
// {"jsonrpc":"2.0","id":<raw_id>,"error":{"code":..,"message":..}} with the id written as given:
// a client's id comes back byte-exact (123456789012345678901234567890 does not survive a double).
std::string error_text(std::string_view raw_id, int code, std::string_view message);
// The same for a result: `raw_result` is JSON text, put in as it is.
std::string result_text(std::string_view raw_id, std::string_view raw_result);

// What a client's request body may be (`[global] max_json_depth`, `max_batch_size`).
struct RequestLimits {
  std::size_t max_depth = raw::kDefaultMaxDepth;
  std::size_t max_batch_size = 1000;
};

// The shape of a client's HTTP request body, checked without touching a node and without
// building a tree of what is forwarded: the proxy forwards the body's bytes unchanged, and needs a
// tree only to answer with errors (error_for_each). Every request in it must be valid
// (is_valid_request); a batch with one invalid request is answered by the proxy whole, so that a
// node never sees input that cannot be valid.
struct RequestShape {
  enum class Kind { single, batch, parse_error, invalid_request } kind = Kind::parse_error;
  std::size_t count = 0;  // requests in the body (1 for single)
  std::string problem;    // why it is invalid, for the error message
  std::string answer;     // invalid_request: what the client gets (one error, or one per batch entry)
};
RequestShape inspect_request_body(std::string_view body, const RequestLimits& limits = {});

// The error answer a client expects for `body` (valid JSON) when the proxy cannot serve it: one
// error per request carrying that request's id byte-exact (an array for a batch; requests without
// an id get none, and a batch of notifications only gets nothing: ""), or a single error with a
// null id when the body is not a request at all. An id that is not null, a number or a string is
// answered as null. Built from the text: no tree of the client's JSON is made.
std::string error_for_each(std::string_view body, int code, std::string_view message);

// Ok when `message` is a well-formed request object: "method" a string, "id" absent
// (notification), null, a number or a string, "params" absent, an array or an object; else the
// problem, for the client's error message. Runs on every request: ok allocates nothing.
Result<void> is_valid_request(const json& message);
// True when the JSON value `text` (valid JSON) may be a request's id: null, a number or a string.
bool is_id_text(std::string_view text);
// The same check on valid JSON text, from its members' spans (raw::view_message), without a tree;
// also refuses an id, method or params that appears twice in any case (a tree cannot tell).
Result<void> is_valid_request(std::string_view text, const raw::MessageView& view);

// Formats a quantity as Ethereum's hex ("0x1a"), and reads one back.
std::string to_quantity(std::uint64_t value);
std::optional<std::uint64_t> from_quantity(std::string_view hex);

}  // namespace vixy::jsonrpc
