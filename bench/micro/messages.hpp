#pragma once
// Request bodies shared by the micro-benchmarks; the load generator sends the same shapes.

#include <string>

namespace vixy::bench {

inline std::string block_number_request(int id) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"eth_blockNumber","params":[]})";
}

// An eth_call whose body is 4 KiB: calldata dominates real eth_call requests.
inline std::string eth_call_request(int id) {
  std::string head = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                     R"(,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000deadbeef","data":"0x)";
  std::string tail = R"("},"latest"]})";
  std::string body = head;
  body.append(4096 - head.size() - tail.size(), 'a');
  return body + tail;
}

inline std::string batch_request(int size) {
  std::string body = "[";
  for (int i = 0; i < size; ++i) {
    if (i) body += ',';
    body += block_number_request(i + 1);
  }
  return body + "]";
}

}  // namespace vixy::bench
