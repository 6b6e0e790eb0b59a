#pragma once
// The hostile clients' messages, and the words the report uses for what came back. Pure text
// functions: the nested documents are built and measured without a JSON tree (a tree that deep is
// what breaks a parser that recurses), and every answer is measured before it is parsed.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chaos/bounded_json.hpp"
#include "chaos/http_client.hpp"

namespace vixy::chaos {

// A JSON-RPC request whose `params` is an array nested `depth` deep: [[[...]]].
std::string nested_params_request(const std::string& id, int depth);
// A request whose id is an object nested `depth` deep: {"a":{"a":...}} (an invalid id, so the
// proxy cannot echo it and must answer with a null id).
std::string nested_id_request(int depth);
// eth_subscribe for logs whose filter's address is an array nested `depth` deep.
std::string nested_logs_subscribe(const std::string& id, int depth);
// A batch of `size` eth_blockNumber requests with ids "<id>-0", "<id>-1"...
std::string huge_batch(const std::string& id, int size);

// What a JSON-RPC answer text is, in the report's words: "error -32600", "a result", "an empty
// batch answer", "1000 answers (1000 errors, first error -32600)", "not JSON", "an answer nested 5000 deep".
std::string describe_answer(std::string_view text);
// The same for one HTTP exchange: "HTTP 400, error -32600", "HTTP 413, not JSON",
// "transport error: Connection reset by peer".
std::string describe_http(const HttpResult& result);

}  // namespace vixy::chaos
