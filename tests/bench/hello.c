/* The hello-world CGI of the benchmark. */
#include <stdio.h>

int
main(void)
{
	fputs("Content-Type: text/plain\r\n\r\nhello\n", stdout);
	return 0;
}
