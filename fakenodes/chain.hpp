#pragma once
// The deterministic chain every fake node serves. Pure functions of (seed, height): nodes started
// independently with the same seed agree on every hash, like synced real nodes, and a test can
// recompute anything a node said. The head follows the wall clock, so no node needs to talk to
// another to agree on it.

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vixy::fakenodes {

using json = nlohmann::json;

inline constexpr std::uint64_t kGenesisHeight = 1'000'000;   // the head at kEpochMs
inline constexpr std::int64_t kEpochMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
inline constexpr std::uint64_t kLogsPerBlock = 3;
inline constexpr std::uint64_t kTxsPerBlock = 2;
inline constexpr std::uint64_t kPendingTxsPerBlock = 2;

// The contracts that emit the chain's logs (log i of block h comes from kLogAddresses[(h+i)%4]) and
// the two event signatures (topic 0 of log i is kLogSignatures[i%2]: Transfer, Approval).
inline constexpr std::array<std::string_view, 4> kLogAddresses = {
    "0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222",
    "0x3333333333333333333333333333333333333333", "0x4444444444444444444444444444444444444444"};
inline constexpr std::array<std::string_view, 2> kLogSignatures = {
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"};

struct ChainParams {
  std::uint64_t seed = 0;
  std::uint64_t block_time_ms = 1000;
  std::uint64_t chain_id = 1;
};

// Head height at a wall-clock time: one block every block_time_ms since kEpochMs (clamped there).
std::uint64_t height_at(std::int64_t now_ms, std::uint64_t block_time_ms);
// Milliseconds since the Unix epoch, from the system clock.
std::int64_t now_ms();

class Chain {
 public:
  explicit Chain(ChainParams params);

  const ChainParams& params() const { return params_; }
  std::uint64_t height_at(std::int64_t now) const { return fakenodes::height_at(now, params_.block_time_ms); }
  // When the block after `height` appears (ms since the Unix epoch).
  std::int64_t next_block_ms(std::uint64_t height) const;

  // 0x + 64 hex: 24 bytes of SHA-256("vixy-block:<seed>:<h>") followed by h, big-endian.
  std::string block_hash(std::uint64_t height) const;
  // The height a hash of this chain names; nullopt for anything this chain would not produce.
  std::optional<std::uint64_t> height_of_hash(std::string_view hash) const;
  std::uint64_t timestamp(std::uint64_t height) const;

  json block(std::uint64_t height, bool full_transactions) const;
  json header(std::uint64_t height) const;  // the newHeads shape: block minus transactions, uncles, size
  std::vector<json> logs(std::uint64_t height) const;
  json log(std::uint64_t height, std::uint64_t index) const;
  // What a log's address and event signature are, without building the log (cheap pre-filtering).
  static std::string_view log_address(std::uint64_t height, std::uint64_t index) {
    return kLogAddresses[(height + index) % kLogAddresses.size()];
  }
  static std::string_view log_signature(std::uint64_t index) {
    return kLogSignatures[index % kLogSignatures.size()];
  }
  std::vector<std::string> transaction_hashes(std::uint64_t height) const;
  std::vector<std::string> pending_transaction_hashes(std::uint64_t height) const;
  std::string balance(std::string_view address) const;  // hex quantity, a function of the address only

  // CL view of the same clock: roots of the beacon block at a slot.
  std::string beacon_root(std::string_view what, std::uint64_t slot) const;

 private:
  // 0x + 64 hex of SHA-256("vixy-<domain>:<seed>:<height>:<index>").
  std::string derived(std::string_view domain, std::uint64_t height, std::uint64_t index = 0) const;
  json transaction(std::uint64_t height, std::uint64_t index) const;

  ChainParams params_;
};

// SHA-256 through OpenSSL EVP.
std::array<unsigned char, 32> sha256(std::string_view data);
std::string to_hex(const unsigned char* data, std::size_t size);  // "0x" + lowercase hex

}  // namespace vixy::fakenodes
