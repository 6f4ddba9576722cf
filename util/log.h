/* Leveled logging to stderr, one level per module, set from RRVM_LOG.
 *
 *   RRVM_LOG=debug            every module at debug
 *   RRVM_LOG=warn,vmm=debug   default warn, the vmm module at debug
 *
 * Library code logs; only cli/ decides to exit.  Cost: one getenv at first
 * use, then a table lookup per call. */
#ifndef RRVM_UTIL_LOG_H
#define RRVM_UTIL_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Returns true when MODULE logs at LEVEL. */
int log_enabled(const char *module, enum log_level level);
void log_msg(const char *module, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Re-read RRVM_LOG (tests change it). */
void log_reset(void);

#ifndef LOG_MODULE
#define LOG_MODULE "rrvm"
#endif

#define log_err(...) log_msg(LOG_MODULE, LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_MODULE, LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_MODULE, LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                         \
	do {                                                   \
		if (log_enabled(LOG_MODULE, LOG_DEBUG))        \
			log_msg(LOG_MODULE, LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
