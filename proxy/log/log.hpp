#pragma once
// One line per event on stderr: `ts=... level=... msg=... key=value ...`. Values with spaces,
// quotes or '=' are quoted. Never pass a URL that has not gone through net::redact_url.

#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace vixy::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class Number, class = std::enable_if_t<std::is_arithmetic_v<Number>>>
  Field(std::string_view k, Number v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
};

void set_level(Level level);
Level level();
// Parses "debug" | "info" | "warn" | "error"; false when the text is none of them.
bool parse_level(std::string_view text, Level& out);
// Tags every line of this process, e.g. "vixy" or "fakenode/el-primary".
void set_component(std::string component);

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }

// The completion handler for a coroutine spawned on its own (co_spawn): an exception that ends
// it is logged at error level with `what` (a string literal naming the coroutine), where Asio's
// `detached` would swallow it and leave a listener or a session silently gone.
struct ReportException {
  const char* what;
  void operator()(std::exception_ptr failure) const;
};
inline ReportException report_exception(const char* what) { return {what}; }

// The formatted line without the timestamp, for tests.
std::string format_fields(std::string_view msg, std::initializer_list<Field> fields);

}  // namespace vixy::log
