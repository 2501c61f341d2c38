"""The API's JSON parser: JSON numbers with a fraction or exponent become Decimal, not float.

DRF's JSONParser hands `0.1` to serializers as the float 0.1 (really 0.1000000000000000055...),
so a decimal field would see a value the client never sent. Parsing numbers straight to Decimal
keeps money exact from the wire on. NaN and Infinity literals stay refused (as in DRF).
"""

import codecs
import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant


class DecimalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            return json.load(decoded_stream, parse_float=Decimal, parse_constant=strict_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:  # absurdly deep nesting: a client error, not a 500
            raise ParseError("JSON parse error - nested too deeply.") from exc
