#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX_RULES 16

struct log_rule {
	char module[24];
	enum log_level level;
};

static struct {
	int parsed;
	enum log_level deflt;
	int nrules;
	struct log_rule rules[LOG_MAX_RULES];
} log_cfg;

static const char *const log_names[] = { "err", "warn", "info", "debug" };

static int log_parse_level(const char *s, size_t n, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strlen(log_names[i]) == n && !strncmp(s, log_names[i], n)) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void log_parse(void)
{
	const char *env = getenv("RRVM_LOG");

	log_cfg.parsed = 1;
	log_cfg.deflt = LOG_WARN;
	log_cfg.nrules = 0;
	if (!env)
		return;
	while (*env) {
		size_t len = strcspn(env, ",");
		const char *eq = memchr(env, '=', len);
		enum log_level lvl;

		if (!eq) {
			if (!log_parse_level(env, len, &lvl))
				log_cfg.deflt = lvl;
		} else if (log_cfg.nrules < LOG_MAX_RULES &&
			   (size_t)(eq - env) < sizeof(log_cfg.rules[0].module) &&
			   !log_parse_level(eq + 1, len - (size_t)(eq - env) - 1, &lvl)) {
			struct log_rule *r = &log_cfg.rules[log_cfg.nrules++];
			memcpy(r->module, env, (size_t)(eq - env));
			r->module[eq - env] = '\0';
			r->level = lvl;
		}
		env += len;
		if (*env == ',')
			env++;
	}
}

void log_reset(void)
{
	log_cfg.parsed = 0;
}

int log_enabled(const char *module, enum log_level level)
{
	if (!log_cfg.parsed)
		log_parse();
	for (int i = 0; i < log_cfg.nrules; i++)
		if (!strcmp(log_cfg.rules[i].module, module))
			return level <= log_cfg.rules[i].level;
	return level <= log_cfg.deflt;
}

void log_msg(const char *module, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(module, level))
		return;
	fprintf(stderr, "rrvm: %s%s", level == LOG_ERR ? "" : log_names[level],
		level == LOG_ERR ? "" : ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
