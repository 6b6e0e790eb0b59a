// The config parser on any text: it returns a Config or throws ConfigError whose message names the
// file first ("FILE:LINE: KEY: REASON"); any other exception, a crash or a sanitizer report is a bug.
// The code points toml++ 3.3.0 crashes on are refused by the proxy before parsing (config.cpp), so
// every input goes through; the crashing inputs are kept in the corpus.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = vixy::config::parse(text, "fuzz.toml");
    VIXY_FUZZ_CHECK(config.source_path == "fuzz.toml", "source_path is not the name given");
    VIXY_FUZZ_CHECK(!config.el.empty(), "a config without EL nodes was accepted");
  } catch (const vixy::config::ConfigError& error) {
    std::string_view message = error.what();
    VIXY_FUZZ_CHECK(message.starts_with("fuzz.toml:"), std::string("message does not start with the file: ") +
                                                           std::string(message));
  } catch (const std::exception& error) {
    vixy::fuzz::check_failed(std::string("not a ConfigError: ") + error.what(), __FILE__, __LINE__);
  }
  return 0;
}
