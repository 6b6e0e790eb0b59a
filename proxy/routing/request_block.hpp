#pragma once
// Which block a JSON-RPC request needs a node to have, read from the request's text: a block
// number (eth_getBlockByNumber 0x10, eth_call at 0x10, eth_getLogs up to 0x10), "latest" (or
// "pending", or no block given, where the method takes one), or nothing a node's head decides
// (hashes, "earliest", "safe", "finalized", methods without a block).

#include <cstdint>
#include <string_view>

namespace vixy::routing {

struct RequestBlock {
  enum class Kind { none, number, latest } kind = Kind::none;
  std::uint64_t number = 0;  // Kind::number: the block; Kind::latest: the highest number a batch also named
};

// `body`: a valid single request or batch. A batch needs the most any of its requests needs.
RequestBlock request_block(std::string_view body);

}  // namespace vixy::routing
