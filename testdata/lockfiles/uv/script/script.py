# /// script
# requires-python = ">=3.11"
# dependencies = ["requests<3", "rich"]
# ///
import requests, rich
rich.print(requests.get("https://index.example/").status_code)
