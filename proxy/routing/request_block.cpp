#include "routing/request_block.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"

namespace vixy::routing {

namespace raw = jsonrpc::raw;

namespace {

// Where the block parameter is, by method (the standard eth_ methods and the common traces).
std::optional<std::size_t> block_param(std::string_view method) {
  static constexpr std::pair<std::string_view, std::size_t> kMethods[] = {
      {"eth_getBlockByNumber", 0},
      {"eth_getBlockTransactionCountByNumber", 0},
      {"eth_getUncleCountByBlockNumber", 0},
      {"eth_getTransactionByBlockNumberAndIndex", 0},
      {"eth_getUncleByBlockNumberAndIndex", 0},
      {"eth_getBlockReceipts", 0},
      {"debug_traceBlockByNumber", 0},
      {"trace_block", 0},
      {"eth_getBalance", 1},
      {"eth_getCode", 1},
      {"eth_getTransactionCount", 1},
      {"eth_call", 1},
      {"eth_estimateGas", 1},
      {"eth_createAccessList", 1},
      {"eth_feeHistory", 1},
      {"debug_traceCall", 1},
      {"eth_simulateV1", 1},
      {"eth_getAccount", 1},
      {"eth_getStorageAt", 2},
      {"eth_getProof", 2},
      {"trace_call", 2},
  };
  for (const auto& [name, index] : kMethods) {
    if (name == method) return index;
  }
  return std::nullopt;
}

// A block parameter's value: a number, a tag, or an EIP-1898 object ({"blockNumber": ...} or
// {"blockHash": ...}); absent or null means latest, as nodes read it.
RequestBlock of_tag(std::optional<std::string_view> value) {
  if (!value || *value == "null") return {RequestBlock::Kind::latest};
  std::string_view text = *value;
  if (!text.empty() && text.front() == '{') {
    // One level only, and only a string: a blockNumber nested in blockNumbers would make each
    // level scan the whole object again.
    auto number = raw::member(text, "blockNumber");
    if (!number) return {};  // by hash: any node that has it answers the same
    text = number->of(text);
    if (text.empty() || text.front() != '"') return {};
  }
  auto tag = raw::string_value(text);
  if (!tag) return {};
  if (*tag == "latest" || *tag == "pending") return {RequestBlock::Kind::latest};
  if (auto number = jsonrpc::from_quantity(*tag)) return {RequestBlock::Kind::number, *number};
  return {};  // earliest, safe, finalized: behind every healthy node's head
}

RequestBlock of_request(std::string_view text) {
  auto view = raw::view_message(text);
  if (!view.method) return {};
  auto method = raw::string_value(view.method->of(text)).value_or("");
  std::string_view params = view.params ? view.params->of(text) : std::string_view("[]");
  auto entries = raw::elements(params);
  if (!entries) return {};
  if (method == "eth_getLogs") {
    if (entries->empty()) return {RequestBlock::Kind::latest};
    std::string_view filter = (*entries)[0].of(params);
    if (raw::member(filter, "blockHash")) return {};
    auto to = raw::member(filter, "toBlock");
    return of_tag(to ? std::optional<std::string_view>(to->of(filter)) : std::nullopt);
  }
  auto index = block_param(method);
  if (!index) return {};
  if (*index >= entries->size()) return of_tag(std::nullopt);
  return of_tag((*entries)[*index].of(params));
}

RequestBlock combined(RequestBlock a, RequestBlock b) {
  using Kind = RequestBlock::Kind;
  RequestBlock out;
  out.kind = a.kind == Kind::latest || b.kind == Kind::latest ? Kind::latest
             : a.kind == Kind::number || b.kind == Kind::number ? Kind::number
                                                                  : Kind::none;
  out.number = std::max(a.kind == Kind::none ? 0 : a.number, b.kind == Kind::none ? 0 : b.number);
  return out;
}

}  // namespace

RequestBlock request_block(std::string_view body) {
  auto entries = raw::elements(body);
  if (!entries) return of_request(body);
  RequestBlock out;
  for (const auto& span : *entries) out = combined(out, of_request(span.of(body)));
  return out;
}

}  // namespace vixy::routing
