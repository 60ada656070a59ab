/* fuzz-html - HTML extraction (charset sniffing, libxml2 tree, main-content
 * pruning, text writer, link resolution) on arbitrary bytes: it must
 * neither crash nor produce invalid UTF-8. */
#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct html_doc d;
	static int inited;
	struct pea_err e;
	if (!inited) {
		html_doc_init(&d);
		inited = 1;
	}
	html_sniff(data, size);
	for (int full = 0; full < 2; full++) {
		struct html_opts o = {full, 1, NULL, "http://example.org/a/b.html", 100};
		if (html_extract(data, size, &o, &d, &e) == 0) {
			if (!utf8_valid(d.text.p ? d.text.p : (const uint8_t *)"", d.text.len) ||
			    !utf8_valid(d.title.p ? d.title.p : (const uint8_t *)"", d.title.len))
				__builtin_trap();
			for (size_t i = 0; i < d.nlinks; i++)
				if (strncmp(d.links[i], "http://", 7) && strncmp(d.links[i], "https://", 8))
					__builtin_trap();
		}
	}
	return 0;
}
