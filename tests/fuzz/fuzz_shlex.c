/* shlex.split of a container's command: any bytes give an argv or an error, never a crash;
 * the words are NUL-terminated and no longer than the command. */
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *command = fuzz_text(data, size);
	const char *error = NULL;
	char **argv = card_shlex_split(command, &error);
	if (!argv && !error)
		abort(); /* a failure always says why */
	for (size_t i = 0; argv && argv[i]; i++)
		if (strlen(argv[i]) > strlen(command))
			abort();
	card_argv_free(argv);
	free(command);
	return 0;
}
