# Posts a report with the token: urllib and the token, which harden does not follow.
import json
import os
import urllib.request

body = json.dumps({"body": open("report.md").read()}).encode()
request = urllib.request.Request(
    "https://api.github.com/repos/o/r/issues/1/comments",
    data=body,
    headers={"Authorization": "Bearer " + os.environ["GH_TOKEN"]},
)
urllib.request.urlopen(request)
