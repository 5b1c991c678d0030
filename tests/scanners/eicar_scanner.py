"""A real (if tiny) attachment scanner for the tests: kefu runs it as KEFU_ATTACHMENT_SCANNER,
as it would run ``clamdscan --no-summary -``. It reads the file on its standard input and
exits 1 for the EICAR test string, 2 (a scanner error) for BROKEN, sleeps for SLOW, else 0."""

import sys
import time

# The EICAR anti-virus test file, in two halves so this script is not itself flagged.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
BROKEN = b"SCANNER-BROKEN"
SLOW = b"SCANNER-SLOW"

if __name__ == "__main__":
    data = sys.stdin.buffer.read()
    if EICAR in data:
        sys.stdout.write("stdin: Eicar-Test-Signature FOUND\n")
        sys.exit(1)
    if BROKEN in data:
        sys.stderr.write("cannot reach the signature database\n")
        sys.exit(2)
    if SLOW in data:
        time.sleep(5)
    sys.exit(0)
