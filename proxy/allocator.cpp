// jemalloc's settings, read by the library from this symbol at its first allocation (vixy is linked
// with Debian's jemalloc: proxy/CMakeLists.txt). jemalloc gives memory back only while allocating,
// unless its background thread does: a proxy whose load comes in bursts would keep a burst's pages
// for good. The background thread returns pages a second after they were last freed.
extern "C" {
// NOLINTNEXTLINE: the name is jemalloc's.
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
