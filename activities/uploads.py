"""The upload limit of the Imports page, enforced while the request body is read.

Django's own handlers store the whole file (in memory, then in a temporary file) before
a form can look at its size, so a 210 MB upload was received in full and only then
refused for the 200 MB limit. This handler goes first: it refuses on the declared
``Content-Length`` as soon as the file part begins, and otherwise stops reading the
moment the file passes the limit. The fields before the file (the CSRF token, the
community, the format) are still read, so the form comes back filled in, with the reason
on the file field.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Room for the form's other fields and the multipart framing around the file.
FIELDS_ALLOWANCE = 64 * 1024


class ImportUploadLimit(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.IMPORT_MAX_UPLOAD_BYTES
        self.declared_too_large = False
        self.refused = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.declared_too_large = content_length > self.limit + FIELDS_ALLOWANCE
        return None  # the multipart parser goes on

    def new_file(self, *args, **kwargs):
        if self.declared_too_large:
            self._refuse()
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self._refuse()
        return raw_data  # on to the handler that stores it

    def file_complete(self, file_size):
        return None  # the next handler makes the file

    def _refuse(self):
        self.refused = True
        # connection_reset: do not read (and throw away) the rest of the body either.
        raise StopUpload(connection_reset=True)
