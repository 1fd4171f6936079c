/*
 * abi.c: the calls that let a program built against another version of httpserve.h run
 * with this library. The options of hs_server_new come with the size of the caller's
 * struct: an older caller's struct is shorter, and the fields it lacks are zero (their
 * defaults); a newer caller's is longer, and is accepted only when what this version
 * does not know is unset.
 */
#include "internal.h"

int hs_server_new_sized(struct hs_server **out, const struct hs_options *o, size_t o_size,
                        const struct hs_handler *h)
{
	if (!o)
		return hs_server_new(out, NULL, h);
	struct hs_options full = {0};
	size_t known = o_size < sizeof full ? o_size : sizeof full;
	const unsigned char *bytes = (const unsigned char *)o;
	for (size_t i = known; i < o_size; i++) {
		if (bytes[i]) {
			*out = NULL;
			return -E2BIG;
		}
	}
	memcpy(&full, o, known);
	return hs_server_new(out, &full, h);
}
